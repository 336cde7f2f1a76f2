from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django_celery_beat.models import PeriodicTask
from rest_framework import exceptions
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from crm.dashboards import Dashboard, manager_dashboard, operator_dashboard, owner_dashboard
from crm.health import check_broker, check_database
from shop.audit import audit_record, limit_alerts
from shop.csv_safety import csv_lines
from shop.models import AuditKind
from shop.permissions import capability_required, user_can
from shop.roles import Capability
from shop.schedules import schedule_title, schedule_when


def _dashboard(user: Any) -> Dashboard | None:
    """The owner's view for those who configure, the manager's for those who see money reports and handle
    follow-ups, the operator's for those who take calls; the role matrix decides, not the role's name."""
    if user.can(Capability.CONFIGURE):
        return owner_dashboard()
    if user.can(Capability.REPORTS) and user.can(Capability.BROWSE):
        return manager_dashboard()
    if user.can(Capability.LOOKUP):
        return operator_dashboard(user)
    return None


@login_required
def home(request: HttpRequest) -> HttpResponseBase:
    """Each role's dashboard (crm.dashboards); ``?export=<table>`` downloads one of its tables as CSV. The owner also
    sees the alerts of staff who reached the hourly card limit this week."""
    dashboard = _dashboard(request.user)
    if dashboard is not None and request.GET.get("export") in dashboard.tables:
        name = request.GET["export"]
        audit_record(kind=AuditKind.EXPORT, user=request.user, request=request, detail={"what": f"dashboard-{name}"})
        header, rows = dashboard.tables[name]
        response = StreamingHttpResponse(csv_lines([header, *rows]), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="dashboard-{name}-{timezone.localdate():%Y-%m-%d}.csv"'
        return response
    alerts = limit_alerts() if user_can(request.user, Capability.CONFIGURE) else []
    context = {"dashboard": dashboard, "alerts": alerts, **(dashboard.context if dashboard else {})}
    return render(request, "crm/home.html", context)


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database and the broker answer, 503 naming the failing part otherwise. No login: the
    orchestrator asks, and the answer holds no data."""
    parts = {"database": check_database(), "broker": check_broker()}
    healthy = not any(parts.values())
    return JsonResponse(
        {
            "status": "ok" if healthy else "unhealthy",
            **{name: problem or "ok" for name, problem in parts.items()},
        },
        status=200 if healthy else 503,
    )


@capability_required(Capability.CONFIGURE)
def schedules(request: HttpRequest) -> HttpResponse:
    """The periodic work the scheduler runs, as the owner sees it."""
    tasks = list(PeriodicTask.objects.select_related("interval", "crontab").order_by("name"))
    for task in tasks:
        task.title = schedule_title(task.task, task.name)  # type: ignore[attr-defined]
        task.when = schedule_when(task)  # type: ignore[attr-defined]
    return render(request, "crm/schedules.html", {"tasks": tasks})


class ApiNotFoundApi(APIView):
    """Any path under /api/v1/ that no endpoint claims. Without it Django answers with the HTML 404 page, and an
    integration expecting JSON would fail to parse the error instead of reading it."""

    authentication_classes = []
    permission_classes = [AllowAny]
    schema = None

    def initial(self, request: Request, *args: object, **kwargs: object) -> None:
        super().initial(request, *args, **kwargs)
        raise exceptions.NotFound(
            _("There is no API endpoint at %(path)s. The list of endpoints is at /api/docs/.") % {"path": request.path}
        )
