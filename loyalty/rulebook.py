"""The rules as the engine reads them: the active rows of today, each turned into an engine ``Rule`` once.

:func:`rulebook` keeps the parsed rules in the process between requests (a quote must not read and parse fifty
rules' JSON each time) and revalidates them on every call with one small query: the active rules' ids with their
row version (PostgreSQL's ``xmin`` and ``ctid``). Any write to a rule's row, whatever path it takes (the owner's
editor, a budget taken by a redemption or an accrual, a bulk update), makes a new row version, so a changed rule is
read again and a cached one can never be stale; a rule switched off or out of its dates drops out of the first
query. Only the rules that changed are read again (a second query). A read that makes one query of everything it
needs (the caller card) takes the versions as a column of its own (:func:`rule_versions_column`) and passes them to
:func:`rulebook_of_versions`."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.contrib.postgres.fields import ArrayField
from django.db import connection
from django.db.models import Q, TextField
from django.db.models.expressions import RawSQL
from django.utils.functional import Promise

from loyalty.engine.evaluate import Conditions, Rule
from loyalty.engine.params import HUNDRED, StoreCreditParams, parse_params
from loyalty.models import LoyaltyRule, RuleKind


def _active(today: date) -> Q:
    return (
        Q(is_active=True)
        & (Q(starts_on__isnull=True) | Q(starts_on__lte=today))
        & (Q(ends_on__isnull=True) | Q(ends_on__gte=today))
    )


def active_rules(today: date) -> list[LoyaltyRule]:
    """Switched on and inside their date window (one query on the ``is_active, kind`` index)."""
    return list(LoyaltyRule.objects.filter(_active(today)).order_by("pk"))


def engine_rule(rule: LoyaltyRule) -> Rule:
    return Rule(
        id=rule.pk,
        kind=rule.kind,
        params=parse_params(rule.kind, rule.params),
        conditions=Conditions(
            segments=frozenset(rule.segments or ()),
            tiers=frozenset(rule.tiers or ()),
            channels=frozenset(rule.channels or ()),
            churn_min=rule.churn_min,
            churn_max=rule.churn_max,
            order_kind=rule.order_kind,
            min_order=rule.min_order,
            starts_on=rule.starts_on,
            ends_on=rule.ends_on,
        ),
        stacking=rule.stacking,
        max_total_percent=rule.max_total_percent,
        control_share=Decimal(rule.control_share),
        budget_left=rule.budget_left,
    )


@dataclass(frozen=True)
class Rulebook:
    """Today's active rules for the engine, in id order, with their names (for the answer's lines)."""

    rules: tuple[Rule, ...]
    names: dict[int, str]

    @property
    def credit_share(self) -> Decimal:
        """How much of an order credit may pay: the strictest active store-credit rule's share, else all of it."""
        shares = [rule.params.max_share_percent for rule in self.rules if isinstance(rule.params, StoreCreditParams)]
        return min(shares) if shares else HUNDRED


# (rule id, row version) → (engine rule, name); a dict's get and set are atomic, so threads may share it.
# A rule without a name keeps its kind's lazy label, turned into text in each request's language below.
StrOrPromise = str | Promise
_parsed: dict[tuple[int, str], tuple[Rule, StrOrPromise]] = {}
_VERSION = "xmin::text || ':' || ctid::text"
_ACTIVE_VERSIONS = f"""
    SELECT id::text || '@' || {_VERSION} FROM {LoyaltyRule._meta.db_table}
    WHERE is_active AND (starts_on IS NULL OR starts_on <= %s) AND (ends_on IS NULL OR ends_on >= %s) ORDER BY id
"""  # noqa: S608  (the table name comes from the model; the dates are parameters)
_KEEP_AT_MOST = 1000


def rule_versions_column(today: date) -> RawSQL:
    """The active rules' versions (``id@version``) as one column of another read — the caller card's one query —
    for :func:`rulebook_of_versions`."""
    return RawSQL(f"ARRAY({_ACTIVE_VERSIONS})", (today, today), output_field=ArrayField(TextField()))  # noqa: S611


def rulebook(today: date) -> Rulebook:
    """Today's active rules: one query when none changed since this process last read them, two otherwise."""
    with connection.cursor() as cursor:
        cursor.execute(_ACTIVE_VERSIONS, [today, today])
        versions = [version for (version,) in cursor.fetchall()]
    return rulebook_of_versions(versions)


def rulebook_of_versions(active: list[str]) -> Rulebook:
    """The rulebook of the active rules' versions read just before (``id@version``, in id order): from this
    process's parsed rules, reading again only the rules whose version it has not seen (one query)."""
    versions = dict((int(pk), version) for pk, _at, version in (entry.partition("@") for entry in active))
    found = {pk: _parsed.get((pk, version)) for pk, version in versions.items()}
    missing = [pk for pk, entry in found.items() if entry is None]
    if missing:
        if len(_parsed) > _KEEP_AT_MOST:
            _parsed.clear()
        # Read after the versions: each row at the version seen there or a newer one written since (a rule
        # deleted meanwhile is left out); it is kept under the version it was read at.
        for row in LoyaltyRule.objects.filter(pk__in=missing).annotate(row_version=RawSQL(_VERSION, ())):  # noqa: S611
            found[row.pk] = _parsed[(row.pk, row.row_version)] = (
                engine_rule(row),
                row.name or RuleKind(row.kind).label,
            )
    entries = [entry for entry in found.values() if entry is not None]
    return Rulebook(rules=tuple(rule for rule, _name in entries), names={rule.id: str(name) for rule, name in entries})
