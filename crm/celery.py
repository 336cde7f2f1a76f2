"""The Celery application of Retain. Tasks live in each app's ``tasks.py`` and are discovered here."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")

app = Celery("crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
# The default app of every thread, not only of the one that imported this module: a service queueing from a
# thread (gthread workers, a thread pool) must find the registered tasks, not an empty fallback app.
app.set_default()
app.autodiscover_tasks()
