"""Test overrides: the suite talks to the real database and broker from the environment; only tasks that a test
does not send to a real worker run eagerly."""

import os

# Before crm.settings reads it: a developer's .env (a copy of .env.example for compose says production) must not
# turn the test run into production settings with HTTPS redirects.
os.environ["DJANGO_ENV"] = "test"

from crm.settings import *  # noqa: F403

DJANGO_ENV = "test"
CELERY_TASK_ALWAYS_EAGER = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
