"""The scoring pages: segments and tiers for managers, the owner's model page with its runs, fit plot and tier
thresholds, and the small JSON endpoint the Run-now progress bar polls."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from scoring import selectors
from scoring.forms import TierThresholdsForm
from scoring.models import ScoringRun, ScoringSettings
from scoring.services import scoring_run_start_unless_active, scoring_settings_update
from shop.permissions import capability_required, user_can
from shop.roles import Capability

# Every "start a run" click takes this lock, so two owners clicking at once cannot both see "none running" and
# start two runs that would overwrite each other's scores.
# The steps in the order a run takes them (the JSON column does not keep the order they were written in).
STEP_LABELS = {
    "statistics": gettext_lazy("statistics"),
    "fit": gettext_lazy("fit"),
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


def _model_page(request: HttpRequest, form: TierThresholdsForm, status: int = 200) -> HttpResponse:
    last = selectors.last_succeeded_run()
    fit = selectors.fit_check_for(last) if last else None
    runs = list(selectors.recent_runs())
    current = runs[0] if runs else None
    return render(
        request,
        "scoring/model.html",
        {
            "runs": _run_rows(runs),
            "current": current,
            "current_active": current is not None and current.state in selectors.ACTIVE_STATES,
            "last": last,
            "fit": fit,
            "fit_chart": {
                "labels": fit.labels,
                "actual": fit.actual,
                "expected": fit.expected,
                "names": {"actual": _("Actual"), "expected": _("Expected (BG/NBD)")},
            }
            if fit
            else None,
            "form": form,
        },
        status=status,
    )


@never_cache
@require_http_methods(["GET", "POST"])
@capability_required(Capability.CONFIGURE)
def model(request: HttpRequest) -> HttpResponse:
    """The owner's model page; a POST saves the tier thresholds."""
    settings = ScoringSettings.load()
    initial = {"vip_from": settings.vip_from, "high_from": settings.high_from, "medium_from": settings.medium_from}
    form = TierThresholdsForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            try:
                scoring_settings_update(**form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("Tier thresholds saved; every stored score has its new tier."))
                return redirect("scoring:model")
        return _model_page(request, form, status=400)
    return _model_page(request, form)


@require_POST
@capability_required(Capability.CONFIGURE)
def run_start(request: HttpRequest) -> HttpResponse:
    """Start a full run now, unless one is already waiting or running."""
    run, started = scoring_run_start_unless_active(user=request.user)
    if not started:
        messages.error(
            request,
            _("A scoring run is already %(state)s (started %(when)s); wait for it to finish.")
            % {
                "state": run.get_state_display().lower(),
                "when": date_format(timezone.localtime(run.created_at), "SHORT_DATETIME_FORMAT"),
            },
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
