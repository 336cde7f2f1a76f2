"""The backend the settings choose when no database is configured outside production.

Django's own dummy backend would say "supply the ENGINE value", which tells a newcomer nothing. This one fails at
the first query with the two ways to get a database, and leaves everything that needs none (``manage.py help``,
``check``, the type checker's settings import) working.
"""

from typing import Any, NoReturn

from django.core.exceptions import ImproperlyConfigured
from django.db.backends.dummy import base as dummy

MESSAGE = (
    "No database: DATABASE_URL is not set and the demo's embedded PostgreSQL is not running. "
    "Run `make demo` (it starts PostgreSQL under var/postgres and keeps it there), or start that database alone "
    "with `.venv/bin/python -m crm.embedded_db start`, or set DATABASE_URL=postgres://user@host:5432/name."
)


def complain(*args: Any, **kwargs: Any) -> NoReturn:
    raise ImproperlyConfigured(MESSAGE)


class DatabaseOperations(dummy.DatabaseOperations):
    quote_name = complain


class DatabaseIntrospection(dummy.DatabaseIntrospection):
    get_table_list = complain


class DatabaseWrapper(dummy.DatabaseWrapper):
    vendor = "none"
    _cursor = complain
    ensure_connection = complain
    _commit = complain
    _savepoint_commit = complain
    _set_autocommit = complain
    ops_class = DatabaseOperations
    introspection_class = DatabaseIntrospection
