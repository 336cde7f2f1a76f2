"""Import pages: upload, check the mapping on a preview, watch the progress, download the skipped rows."""

from datetime import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.formats import date_format, localize
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from orders.imports import services
from orders.imports.fields import REQUIRED, fields_for, label, status_label
from orders.imports.parsing import RowResult
from orders.models import ImportJob, ImportKind, ImportState
from shop.audit import audit_record
from shop.models import AuditKind
from shop.permissions import capability_required
from shop.roles import Capability

IMPORT = Capability.IMPORT


class UploadForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("What the file holds"),
        choices=ImportKind.choices,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    file = forms.FileField(
        label=gettext_lazy("CSV file"),
        widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ".csv,.txt"}),
    )


def mapping_form(job: ImportJob, data: Any = None) -> forms.Form:
    """One select per target field, listing the file's columns."""
    choices = [("", "—"), *((header, header) for header in job.headers)]
    form = forms.Form(data)
    for target in fields_for(job.kind):
        form.fields[target] = forms.ChoiceField(
            label=label(target),
            choices=choices,
            required=target in REQUIRED[job.kind],
            initial=job.mapping.get(target, ""),
            widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
        )
    return form


def _cell(row: RowResult, target: str) -> str:
    """One value of a preview row as the manager reads it: statuses by name, dates and amounts in the locale."""
    value = row.data.get({"phone": "phones", "email": "emails"}.get(target, target))
    if value is None or value == "":
        return ""
    if isinstance(value, list):
        return ", ".join(value)
    named = status_label(target, value)
    if named is not None:
        return named
    if isinstance(value, datetime):
        return date_format(localtime(value), "SHORT_DATETIME_FORMAT")
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return str(localize(value))


def preview_table(rows: list[RowResult], targets: list[str]) -> list[dict[str, Any]]:
    return [
        {"line": row.line, "cells": [_cell(row, target) for target in targets], "errors": row.errors} for row in rows
    ]


def job_for_user(user: Any, pk: int) -> ImportJob:
    """The one accessor for an import by id; the views that call it already required IMPORT."""
    return get_object_or_404(ImportJob, pk=pk)


@capability_required(IMPORT)
def job_list(request: HttpRequest) -> HttpResponse:
    return render(request, "orders/imports/list.html", {"jobs": ImportJob.objects.select_related("created_by")[:100]})


@capability_required(IMPORT)
def job_new(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.import_job_create(
                upload=form.cleaned_data["file"], kind=form.cleaned_data["kind"], user=request.user
            )
        except services.CsvImportError as error:
            form.add_error("file", str(error))
        else:
            return redirect("imports:detail", pk=job.pk)
    return render(request, "orders/imports/new.html", {"form": form})


@never_cache
@capability_required(IMPORT)
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = job_for_user(request.user, pk)
    if job.state == ImportState.UPLOADED:
        form = mapping_form(job, request.POST or None)
        if request.method == "POST" and form.is_valid():
            services.import_job_set_mapping(job=job, mapping={k: v for k, v in form.cleaned_data.items() if v})
            if request.POST.get("action") == "import" and services.import_job_start(job=job):
                messages.success(request, _("Import started."))
                return redirect("imports:detail", pk=job.pk)
            return redirect("imports:detail", pk=job.pk)
        preview, problem = services.import_job_preview(job=job)
        targets = [target for target in fields_for(job.kind) if target in job.mapping]
        return render(
            request,
            "orders/imports/preview.html",
            {
                "job": job,
                "form": form,
                "preset": services.job_preset(job),
                "problem": problem,
                "preview": preview_table(preview, targets),
                "missing": [label(target) for target in services.missing_fields(job)],
                "columns": [{"label": label(target), "header": job.mapping[target]} for target in targets],
            },
        )
    return render(request, "orders/imports/progress.html", {"job": job})


@never_cache
@capability_required(IMPORT)
def job_progress(request: HttpRequest, pk: int) -> JsonResponse:
    job = job_for_user(request.user, pk)
    return JsonResponse(
        {
            "state": job.state,
            "state_label": job.get_state_display(),
            "percent": job.progress_percent,
            "total_rows": job.total_rows,
            "processed_rows": job.processed_rows,
            "created": job.created_count,
            "updated": job.updated_count,
            "unchanged": job.unchanged_count,
            "skipped_rows": job.skipped_rows,
            "error": job.failure_reason,
            "has_report": bool(job.error_report),
        }
    )


@capability_required(IMPORT)
def job_errors(request: HttpRequest, pk: int) -> FileResponse:
    job = job_for_user(request.user, pk)
    if not job.error_report:
        raise Http404
    audit_record(
        kind=AuditKind.EXPORT,
        user=request.user,
        request=request,
        detail={"what": "skipped import rows", "import": job.pk},
    )
    return FileResponse(
        job.error_report.open("rb"),
        as_attachment=True,
        filename=f"errors-{job.pk}.csv",
        content_type="text/csv; charset=utf-8",
    )
