"""Programme effect for the page and the owner's dashboard: each programme's treated and control groups over a
window, side by side, with the difference, its 95 % interval (allowing for the skewness and the tails of the net
values) and the verdict (``analytics.effect.stats``). Read
from the pre-aggregated sums (a few rows per programme), never from customers or orders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.utils.translation import gettext as _

from analytics.effect.aggregate import WINDOWS
from analytics.effect.stats import Effect, Sample, Verdict, programme_effect, to_money
from analytics.models import ExposureGroup, ProgrammeEffect
from analytics.selectors.channels import CENT
from shop.templatetags.retain_format import number

DEFAULT_WINDOW = 90


@dataclass(frozen=True)
class GroupFigures:
    customers: int = 0
    buyers: int = 0
    orders: int = 0
    margin: Decimal = Decimal("0")
    cost: Decimal = Decimal("0")
    net: Decimal = Decimal("0")
    net_squares: Decimal = Decimal("0")
    net_cubes: Decimal | None = None
    net_fourths: Decimal | None = None

    def _per(self, amount: Decimal) -> Decimal | None:
        return (amount / self.customers).quantize(CENT) if self.customers else None

    @property
    def repeat_rate(self) -> float | None:
        """Customers who bought at least once in the window, % of the group."""
        return round(100 * self.buyers / self.customers, 1) if self.customers else None

    @property
    def orders_per_customer(self) -> float | None:
        return round(self.orders / self.customers, 2) if self.customers else None

    @property
    def margin_per_customer(self) -> Decimal | None:
        return self._per(self.margin)

    @property
    def cost_per_customer(self) -> Decimal | None:
        return self._per(self.cost)

    @property
    def net_per_customer(self) -> Decimal | None:
        return self._per(self.net)

    def sample(self) -> Sample:
        return Sample(
            count=self.customers,
            total=float(self.net),
            squares=float(self.net_squares),
            cubes=float(self.net_cubes or 0),
            fourths=float(self.net_fourths or 0),
        )


@dataclass(frozen=True)
class ProgrammeResult:
    key: str
    name: str
    url: str
    window_days: int
    treated: GroupFigures
    control: GroupFigures
    effect: Effect
    first_since: datetime | None

    @property
    def incremental(self) -> Decimal:
        """Net value per treated customer minus per control customer: the margin the programme added after its
        cost, per treated customer."""
        return to_money(self.effect.difference) or Decimal("0.00")

    @property
    def low(self) -> Decimal | None:
        return to_money(self.effect.low)

    @property
    def high(self) -> Decimal | None:
        return to_money(self.effect.high)

    @property
    def total_incremental(self) -> Decimal:
        """The difference times the treated customers: what the programme added over the window in all."""
        return (self.incremental * self.treated.customers).quantize(CENT)

    @property
    def verdict(self) -> str:
        return self.effect.verdict

    @property
    def more_needed(self) -> int | None:
        return self.effect.more_needed


def _figures(row: ProgrammeEffect | None) -> GroupFigures:
    if row is None:
        return GroupFigures()
    return GroupFigures(
        customers=row.customers,
        buyers=row.buyers,
        orders=row.orders,
        margin=row.margin,
        cost=row.cost,
        net=row.net,
        net_squares=row.net_squares,
        net_cubes=row.net_cubes,
        net_fourths=row.net_fourths,
    )


def window_choice(value: str | None) -> int:
    try:
        days = int(value or DEFAULT_WINDOW)
    except ValueError:
        return DEFAULT_WINDOW
    return days if days in WINDOWS else DEFAULT_WINDOW


def programme_results(*, window_days: int = DEFAULT_WINDOW) -> list[ProgrammeResult]:
    """One result per programme measured by the last refresh, by name; a programme whose customers have not had
    the whole window yet has empty groups and the "not enough data" verdict."""
    rows = list(ProgrammeEffect.objects.order_by("name", "programme"))
    names: dict[str, tuple[str, str]] = {}
    groups: dict[tuple[str, str], ProgrammeEffect] = {}
    for row in rows:
        names.setdefault(row.programme, (row.name, row.url))
        if row.window_days == window_days:
            groups[(row.programme, row.group)] = row
    results = []
    for key, (name, url) in names.items():
        treated = _figures(groups.get((key, ExposureGroup.TREATED)))
        control = _figures(groups.get((key, ExposureGroup.CONTROL)))
        firsts = [row.first_since for row in groups_of(groups, key) if row.first_since is not None]
        results.append(
            ProgrammeResult(
                key=key,
                name=name,
                url=url,
                window_days=window_days,
                treated=treated,
                control=control,
                effect=programme_effect(treated.sample(), control.sample()),
                first_since=min(firsts) if firsts else None,
            )
        )
    return results


def groups_of(groups: dict[tuple[str, str], ProgrammeEffect], key: str) -> list[ProgrammeEffect]:
    return [row for (programme, _group), row in groups.items() if programme == key]


def verdict_words(result: ProgrammeResult) -> str:
    """The verdict in plain words, the same on the page, the dashboard and in the CSV."""
    if result.verdict == Verdict.PAYS:
        return _("Pays")
    if result.verdict == Verdict.DOES_NOT_PAY:
        return _("Does not pay")
    if result.more_needed is None:
        return _("Not enough data yet: the groups do not differ so far.")
    return _("Not enough data yet: about %(count)s more customers needed.") % {"count": number(result.more_needed)}
