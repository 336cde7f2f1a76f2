"""Periodic work, declared by each app and kept in django-celery-beat's tables where the owner sees it.

Apps register their schedules in ``AppConfig.ready``; after every migrate (and every flush, which empties the
tables) the missing ones are created. An existing entry is left as it is, so an owner who disabled or retimed a
schedule keeps that choice.
"""

from dataclasses import dataclass
from typing import Any

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext, ngettext


@dataclass(frozen=True)
class Schedule:
    # Marked for translation: stored in English (the scheduler's key), shown in the reader's language.
    name: str | Promise
    task: str
    every: int = 0
    period: str = "minutes"  # seconds, minutes, hours or days, with ``every``
    crontab: tuple[str, str] | None = None  # (minute, hour) in the shop's time zone, instead of an interval


SCHEDULES: dict[str, Schedule] = {}


def schedule_register(schedule: Schedule) -> None:
    SCHEDULES[schedule.task] = schedule


def schedule_title(task: str, stored_name: str) -> str:
    """A periodic task's name in the reader's language: the registered schedule's, else the name stored for it."""
    schedule = SCHEDULES.get(task)
    return str(schedule.name) if schedule is not None else stored_name


def schedule_when(task: Any) -> str:
    """When a periodic task runs, in the reader's words: "every 5 minutes", "every day at 03:30" (the scheduler's
    own text, ``<freq: 5.00 minutes>``, means nothing to an owner)."""
    if task.interval is not None:
        every, period = task.interval.every, task.interval.period
        phrases = {
            "seconds": ngettext("every %(n)d second", "every %(n)d seconds", every),
            "minutes": ngettext("every %(n)d minute", "every %(n)d minutes", every),
            "hours": ngettext("every %(n)d hour", "every %(n)d hours", every),
            "days": ngettext("every %(n)d day", "every %(n)d days", every),
        }
        return phrases.get(period, f"{every} {period}") % {"n": every}
    crontab = task.crontab
    if crontab is not None:
        if crontab.minute.isdigit() and crontab.hour.isdigit() and crontab.day_of_month == crontab.month_of_year == "*":
            at = f"{int(crontab.hour):02d}:{int(crontab.minute):02d}"
            if crontab.day_of_week == "*":
                return gettext("every day at %(time)s") % {"time": at}
        return gettext("on the schedule %(crontab)s") % {
            "crontab": " ".join(
                [crontab.minute, crontab.hour, crontab.day_of_month, crontab.month_of_year, crontab.day_of_week]
            )
        }
    return "—"


def schedules_sync(*, using: str = "default") -> int:
    """Create the registered periodic tasks that do not exist yet; returns how many were created."""
    from django.conf import settings
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

    created = 0
    for schedule in SCHEDULES.values():
        if PeriodicTask.objects.using(using).filter(task=schedule.task).exists():
            continue
        timing: dict[str, Any]
        if schedule.crontab is not None:
            minute, hour = schedule.crontab
            crontab, _ = CrontabSchedule.objects.using(using).get_or_create(
                minute=minute,
                hour=hour,
                day_of_week="*",
                day_of_month="*",
                month_of_year="*",
                timezone=settings.TIME_ZONE,
            )
            timing = {"crontab": crontab}
        else:
            interval, _ = IntervalSchedule.objects.using(using).get_or_create(
                every=schedule.every, period=schedule.period
            )
            timing = {"interval": interval}
        with translation.override("en"):
            name = str(schedule.name)
        PeriodicTask.objects.using(using).create(name=name, task=schedule.task, enabled=True, **timing)
        created += 1
    return created
