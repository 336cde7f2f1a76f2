"""Periodic work, declared by each app and kept in django-celery-beat's tables where the owner sees it.

Apps register their schedules in ``AppConfig.ready``; after every migrate (and every flush, which empties the
tables) the missing ones are created. An existing entry is left as it is, so an owner who disabled or retimed a
schedule keeps that choice.
"""

from dataclasses import dataclass
from typing import Any

from django.utils import translation
from django.utils.functional import Promise


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
