"""Domain events of the customers app, sent on commit; higher apps react by queueing their own work."""

from django.dispatch import Signal

# Sent with customer_id (the survivor) and merged_customer_id after a merge commits.
customer_merged = Signal()
