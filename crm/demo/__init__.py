"""What only the demo shows (``RETAIN_DEMO``, set by scripts/demo.sh): a simulated ring on the operator's console
and the owner's outbox of the survey emails and SMS the demo's file backends wrote. Kept apart from the call centre
and feedback code they drive, which they use only through those apps' own services."""
