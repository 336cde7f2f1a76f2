"""Marketing consent with its proof: one conditional UPDATE and a ConsentChange row only when it changes."""

from datetime import datetime

from django.utils import timezone

from customers.models import ConsentChange, ConsentChannel, Customer


def customer_set_consent(
    *, customer_id: int, channel: str, granted: bool, source: str, wording: str = "", at: datetime | None = None
) -> bool:
    """Set marketing consent for one channel with its proof (source, wording version, the moment it was given or
    withdrawn — now unless the source says when); records a ConsentChange only when it actually changes.
    Returns whether it changed. Conditional UPDATE, so two concurrent calls record one change."""
    at = at or timezone.now()
    prefix = "email" if channel == ConsentChannel.EMAIL else "sms"
    updated = (
        Customer.objects.filter(pk=customer_id)
        .exclude(**{f"{prefix}_consent": granted})
        .update(
            **{
                f"{prefix}_consent": granted,
                f"{prefix}_consent_at": at,
                f"{prefix}_consent_source": source,
                f"{prefix}_consent_wording": wording,
            }
        )
    )
    if updated:
        ConsentChange.objects.create(
            customer_id=customer_id, channel=channel, granted=granted, source=source, wording=wording, changed_at=at
        )
    return bool(updated)
