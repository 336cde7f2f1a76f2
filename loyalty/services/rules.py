"""Writing the owner's rules: only with ``configure``, each change kept with who, when, before and after."""

from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from loyalty.engine.params import params_to_json, parse_params
from loyalty.models import LoyaltyRule, LoyaltyRuleChange
from shop.audit import audit_record
from shop.models import AuditKind
from shop.permissions import user_can
from shop.roles import Capability

# The fields a rule's history records: everything the owner sets (not the running budget figure).
AUDITED_FIELDS = (
    "name", "kind", "params", "is_active", "segments", "tiers", "channels", "churn_min", "churn_max",
    "order_kind", "min_order", "starts_on", "ends_on", "budget_cap", "stacking", "max_total_percent",
    "control_share",
)  # fmt: skip


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def rule_snapshot(rule: LoyaltyRule) -> dict[str, Any]:
    return {name: _plain(getattr(rule, name)) for name in AUDITED_FIELDS}


def _check_configure(user: Any) -> None:
    if not user_can(user, Capability.CONFIGURE):
        raise PermissionDenied(_("Only the owner may change loyalty rules."))


def _save(rule: LoyaltyRule, user: Any, before: dict[str, Any] | None) -> LoyaltyRule:
    rule.full_clean()
    # Stored canonical (decimals as strings), so the history compares like with like.
    rule.params = params_to_json(parse_params(rule.kind, rule.params))
    rule.save()
    after = rule_snapshot(rule)
    if before != after:
        LoyaltyRuleChange.objects.create(
            rule=rule, changed_by=user, before=before, after=after, changed_at=timezone.now()
        )
        changed = {name: [None if before is None else before.get(name), value] for name, value in after.items()}
        audit_record(
            kind=AuditKind.RULE,
            user=user,
            detail={
                "rule": rule.name,
                "kind": rule.kind,
                "model": rule._meta.label_lower,
                "action": "created" if before is None else "changed",
                "changes": {name: pair for name, pair in changed.items() if pair[0] != pair[1]},
            },
        )
    return rule


def rule_create(*, user: Any, **fields: Any) -> LoyaltyRule:
    """Create a rule (inactive unless ``is_active`` is given). Needs ``configure``; raises ``PermissionDenied``
    otherwise and ``ValidationError`` for parameters the kind cannot read. Writes the first history row."""
    _check_configure(user)
    with transaction.atomic():
        return _save(LoyaltyRule(created_by=user, **fields), user, None)


def rule_update(*, user: Any, rule: LoyaltyRule, **fields: Any) -> LoyaltyRule:
    """Change a rule's fields. Needs ``configure``. Locks the rule row so two owners' edits serialise and each
    history row's "before" is what the other left. A save that changes nothing writes no history."""
    _check_configure(user)
    with transaction.atomic():
        locked = LoyaltyRule.objects.select_for_update().get(pk=rule.pk)
        before = rule_snapshot(locked)
        for name, value in fields.items():
            if name not in AUDITED_FIELDS:
                raise ValueError(f"{name} is not a rule field the owner sets")
            setattr(locked, name, value)
        return _save(locked, user, before)


def rule_set_active(*, user: Any, rule: LoyaltyRule, active: bool) -> LoyaltyRule:
    """Switch a rule on or off (a history row)."""
    return rule_update(user=user, rule=rule, is_active=active)
