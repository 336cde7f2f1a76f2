"""Retention campaigns: an audience chosen by one set-based query over the score table, an offer from a loyalty
rule, a message per language through messaging's outbox, a schedule, a budget and a control group; and what each
campaign did, per recipient."""
