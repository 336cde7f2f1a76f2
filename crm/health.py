"""Liveness of the parts Retain cannot work without: the database and the broker."""

import os
from pathlib import Path

import redis
from django.conf import settings
from django.db import connection


def check_database() -> str | None:
    """None when the database answers, else what went wrong."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # any driver error means "down" to the orchestrator
        return f"database: {error.__class__.__name__}: {error}".strip()
    return None


def check_broker() -> str | None:
    """None when the broker takes messages, else what went wrong."""
    url = settings.CELERY_BROKER_URL
    if url.startswith("redis"):
        try:
            # Closed at once: the orchestrator asks every few seconds, and each probe must not leave a connection.
            with redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1) as client:
                client.ping()
        except redis.RedisError as error:
            return f"broker: {error.__class__.__name__}: {error}"
        return None
    folder = Path(str(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]))
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        return f"broker: the queue folder {folder} is missing or not writable"
    return None
