"""The scoring pages: segments and tiers for managers, the owner's model page with its runs, fit plot, churn horizon,
backtest and tier thresholds, and the small JSON endpoints the Run-now and backtest progress poll."""

from datetime import date
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from scoring import selectors
from scoring.backtest_report import backtest_report
from scoring.backtest_requests import backtest_start_unless_active
from scoring.backtests import default_cutoff
from scoring.explain import horizon_sentence
from scoring.forms import BacktestForm, ScoringSettingsForm
from scoring.models import Backtest, ScoringRun, ScoringSettings
from scoring.services import scoring_run_start_unless_active, scoring_settings_update
from shop.audit import audit_changes
from shop.models import AuditKind, ShopSettings
from shop.permissions import capability_required, user_can
from shop.roles import Capability

# The steps in the order a run takes them (the JSON column does not keep the order they were written in).
STEP_LABELS = {
    "statistics": gettext_lazy("statistics"),
    "fit": gettext_lazy("fit"),
    "backtest": gettext_lazy("backtest"),
    "score": gettext_lazy("score"),
    "write": gettext_lazy("write"),
    "snapshot": gettext_lazy("snapshot"),
    "swap": gettext_lazy("swap"),
}


@require_GET
@capability_required(Capability.REPORTS)
def segments(request: HttpRequest) -> HttpResponse:
    thresholds = ScoringSettings.load()
    report = selectors.segment_report(thresholds)
    chart = {
        "segments": {
            "labels": [row.label for row in report.segments],
            "keys": [row.key for row in report.segments],
            "customers": [row.customers for row in report.segments],
            "value": [float(row.total_value) for row in report.segments],
            "clv": [float(row.predicted_clv or 0) for row in report.segments],
            "colours": [row.colour for row in report.segments],
        },
        "tiers": {
            "labels": [row.label for row in report.tiers],
            "keys": [row.key for row in report.tiers],
            "customers": [row.customers for row in report.tiers],
            "colours": [row.colour for row in report.tiers],
        },
        "list_url": reverse("customers:list"),
        "names": {"customers": _("Customers"), "value": _("Realised value"), "clv": _("Predicted CLV, 12 months")},
    }
    return render(
        request,
        "scoring/segments.html",
        {
            "report": report,
            "chart": chart,
            "rf_map": selectors.rf_map(),
            "frequency_scores": range(1, 6),
            "thresholds": thresholds,
            "can_configure": user_can(request.user, Capability.CONFIGURE),
        },
    )


def _steps(timings: dict[str, object]) -> list[tuple[str, float]]:
    """A run's step times in the order the run takes them, then any step this page does not know yet."""
    known = [name for name in STEP_LABELS if name in timings]
    names = known + sorted(set(timings) - set(known))
    return [
        (str(STEP_LABELS.get(name, name)), float(timings[name]))  # type: ignore[arg-type]
        for name in names
        if isinstance(timings[name], int | float)
    ]


def _run_rows(runs: list[ScoringRun]) -> list[dict[str, object]]:
    rows = []
    for run in runs:
        steps = _steps(run.timings or {})
        rows.append({"run": run, "steps": steps, "total_seconds": sum(seconds for _name, seconds in steps)})
    return rows


def _shop_today() -> date:
    """Today in the shop's time zone: the day its backtests' holdouts end."""
    return timezone.now().astimezone(ZoneInfo(ShopSettings.load().time_zone)).date()


def _settings_form(settings: ScoringSettings, data: QueryDict | None = None) -> ScoringSettingsForm:
    initial = {
        "vip_from": settings.vip_from,
        "high_from": settings.high_from,
        "medium_from": settings.medium_from,
        "churn_horizon_days": settings.churn_horizon_days,
    }
    return ScoringSettingsForm(data, initial=initial)


def _backtest_form(data: QueryDict | None = None) -> BacktestForm:
    today = _shop_today()
    return BacktestForm(data, today=today, initial={"cutoff": default_cutoff(today)})


def _horizon_pending(last: ScoringRun | None, saved: int | None) -> int | str | None:
    """The horizon the owner saved, when the next run will use another than the last run did: its days, "auto",
    or None when nothing changes."""
    if last is None or last.horizon_days is None:
        return None
    used_owner = last.params.get("horizon_source") == "owner"
    if saved is None:
        return "auto" if used_owner else None
    return saved if not used_owner or saved != last.horizon_days else None


def _backtest_context() -> dict[str, object]:
    shown = selectors.shown_backtest()
    return {
        "backtest": shown,
        "backtest_report": backtest_report(shown) if shown is not None else None,
        "backtest_failed": selectors.failed_backtest_after(shown),
        "backtest_active": selectors.active_backtest(),
    }


def _model_page(
    request: HttpRequest,
    *,
    form: ScoringSettingsForm | None = None,
    backtest_form: BacktestForm | None = None,
    status: int = 200,
) -> HttpResponse:
    settings = ScoringSettings.load()
    last = selectors.last_succeeded_run()
    fit = selectors.fit_check_for(last) if last else None
    runs = list(selectors.recent_runs())
    current = runs[0] if runs else None
    context = {
        "runs": _run_rows(runs),
        "current": current,
        "current_active": current is not None and current.state in selectors.ACTIVE_STATES,
        "last": last,
        "horizon_sentence": horizon_sentence(last.params) if last else "",
        "horizon_pending": _horizon_pending(last, settings.churn_horizon_days),
        "fit": fit,
        "fit_chart": {
            "labels": fit.labels,
            "actual": fit.actual,
            "expected": fit.expected,
            "names": {"actual": _("Actual"), "expected": _("Expected (BG/NBD)")},
        }
        if fit
        else None,
        "form": form or _settings_form(settings),
        "backtest_form": backtest_form or _backtest_form(),
        **_backtest_context(),
    }
    return render(request, "scoring/model.html", context, status=status)


def _settings_saved(request: HttpRequest, before: int | None, after: int | None) -> None:
    messages.success(request, _("Tier thresholds saved; every stored score has its new tier."))
    if before == after:
        return
    if after is None:
        messages.success(request, _("The churn horizon is automatic again from the next run."))
    else:
        messages.success(
            request,
            ngettext(
                "The churn horizon of %(days)s day applies from the next run.",
                "The churn horizon of %(days)s days applies from the next run.",
                after,
            )
            % {"days": after},
        )


@never_cache
@require_http_methods(["GET", "POST"])
@capability_required(Capability.CONFIGURE)
def model(request: HttpRequest) -> HttpResponse:
    """The owner's model page; a POST saves the tier thresholds and the churn horizon."""
    if request.method != "POST":
        return _model_page(request)
    before = ScoringSettings.load()
    form = _settings_form(before, request.POST)
    if form.is_valid():
        try:
            scoring_settings_update(**form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if form.changed_data:
                audit_changes(request, AuditKind.SETTINGS, form, target="scoring")
            _settings_saved(request, before.churn_horizon_days, form.cleaned_data["churn_horizon_days"])
            return redirect("scoring:model")
    return _model_page(request, form=form, status=400)


def _refuse_while_active(request: HttpRequest, sentence: str, job: ScoringRun | Backtest) -> None:
    """Tell the owner that a run or backtest of the same kind is already waiting or running, and since when."""
    messages.error(
        request,
        sentence
        % {
            "state": job.get_state_display().lower(),
            "when": date_format(timezone.localtime(job.created_at), "SHORT_DATETIME_FORMAT"),
        },
    )


@require_POST
@capability_required(Capability.CONFIGURE)
def backtest_now(request: HttpRequest) -> HttpResponse:
    """Backtest the model now at the owner's cut-off, unless a backtest is already waiting or running."""
    form = _backtest_form(request.POST)
    if not form.is_valid():
        return _model_page(request, backtest_form=form, status=400)
    backtest, started = backtest_start_unless_active(cutoff=form.cleaned_data["cutoff"], user=request.user)
    if not started:
        _refuse_while_active(
            request, _("A backtest is already %(state)s (started %(when)s); wait for it to finish."), backtest
        )
    else:
        messages.success(
            request,
            _("Backtest at the cut-off %(cutoff)s started.") % {"cutoff": date_format(backtest.cutoff, "DATE_FORMAT")},
        )
    return redirect(reverse("scoring:model") + "#backtest")


@never_cache
@require_GET
@capability_required(Capability.CONFIGURE)
def backtest_status(request: HttpRequest, pk: int) -> JsonResponse:
    backtest = selectors.backtest_for_user(request.user, pk)
    return JsonResponse(
        {
            "id": backtest.pk,
            "state": backtest.state,
            "state_label": backtest.get_state_display(),
            "finished": backtest.state not in selectors.BACKTEST_ACTIVE_STATES,
            "error": backtest.error,
            "refusal": backtest.refusal_sentence,
        }
    )


@require_POST
@capability_required(Capability.CONFIGURE)
def run_start(request: HttpRequest) -> HttpResponse:
    """Start a full run now, unless one is already waiting or running."""
    run, started = scoring_run_start_unless_active(user=request.user)
    if not started:
        _refuse_while_active(
            request, _("A scoring run is already %(state)s (started %(when)s); wait for it to finish."), run
        )
    else:
        messages.success(request, _("Scoring run %(id)s started.") % {"id": run.pk})
    return redirect("scoring:model")


@never_cache
@require_GET
@capability_required(Capability.CONFIGURE)
def run_status(request: HttpRequest, pk: int) -> JsonResponse:
    run = selectors.run_for_user(request.user, pk)
    return JsonResponse(
        {
            "id": run.pk,
            "state": run.state,
            "state_label": run.get_state_display(),
            "progress": 100 if run.state == ScoringRun.State.SUCCEEDED else run.progress,
            "finished": run.state not in selectors.ACTIVE_STATES,
            "customers": run.customers,
            "error": run.error,
        }
    )
