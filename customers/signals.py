"""Domain events of the customers app, sent on commit; higher apps react by queueing their own work."""

from django.dispatch import Signal

# Sent by customers.merging with customer_id (the survivor) and merged_customer_id after a merge commits. Everything
# the merge moves was moved inside its transaction by the registered movers: receivers only queue work.
customer_merged = Signal()
