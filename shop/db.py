"""Database helpers shared by the apps' migrations and queries: PostgreSQL-only migration steps, a query compiled
once per process for a hot path, whole model instances read as columns of a composed ``values()`` query, and many
rows' fields written in one statement."""

import itertools
import re
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connection, migrations
from django.db.models import F, Model, QuerySet

M = TypeVar("M", bound=Model)


def postgres_only_sql(sql: str, reverse_sql: str) -> migrations.RunPython:
    """A migration step that runs only on PostgreSQL (extensions, trigram and partial indexes). The demo's SQLite
    database does without: its tables are small enough for a scan."""

    def forward(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    def backward(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(reverse_sql)

    step: Callable[..., None] = forward
    return migrations.RunPython(step, backward, elidable=False)


@dataclass(frozen=True)
class _Compiled:
    statement: str  # the SQL with $1, $2… for PREPARE
    template: list[Any]  # the parameters, placeholders in their slots
    slots: dict[int, str]  # parameter index → placeholder name
    names: list[str]  # the columns' aliases
    converters: dict[int, Any]  # column index → (the fields' converters, expression), as Django applies them
    execute: str  # EXECUTE name (%s, %s…)


class CompiledQuery:
    """A ``values()`` queryset turned into SQL once per process and prepared once per database connection, then
    run with new parameter values: for a read on a hot path (the caller lookup) whose ORM composition — a dozen
    subqueries — costs the worker more CPU than PostgreSQL needs to answer it (about 2 ms against 0.2 ms on this
    machine), and whose planning costs PostgreSQL more than its execution (0.8 ms against 0.2–0.9 ms on a
    million customers).

    ``build`` receives the placeholders given here by name and returns the queryset; each placeholder must reach
    the SQL as a parameter (a filter's value, a ``RawSQL`` parameter), never inlined. :meth:`rows` runs the
    statement with the values given by the same names in the placeholders' places and returns the rows as dicts
    keyed by the queryset's aliases, through the fields' own converters (JSON, arrays) as Django would. Pick
    placeholders no real value equals: a text no phone has, a date in year 1. ``name`` names the prepared
    statement (unique per process); the PREPARE is the connection's setup, not one of the request's queries."""

    def __init__(self, name: str, build: Callable[..., QuerySet[Any, Any]], **placeholders: Any) -> None:
        self._name = name
        self._build = build
        self._placeholders = placeholders
        self._compiled: _Compiled | None = None
        self._prepared_on: weakref.WeakSet[Any] = weakref.WeakSet()

    def _compile(self) -> _Compiled:
        queryset = self._build(**self._placeholders)
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        slots = {
            index: name
            for index, value in enumerate(params)
            for name, placeholder in self._placeholders.items()
            if type(value) is type(placeholder) and value == placeholder
        }
        missing = set(self._placeholders) - set(slots.values())
        if missing:
            raise ImproperlyConfigured(f"Placeholders {sorted(missing)} did not reach the query's parameters")
        numbers = itertools.count(1)
        statement = re.sub(r"%%|%s", lambda m: "%" if m.group() == "%%" else f"${next(numbers)}", sql)
        return _Compiled(
            statement=statement,
            template=list(params),
            slots=slots,
            names=[alias for _expression, _sql, alias in compiler.select],
            converters=compiler.get_converters([expression for expression, _sql, _alias in compiler.select]),
            execute=f"EXECUTE {self._name} ({', '.join(['%s'] * len(params))})" if params else f"EXECUTE {self._name}",
        )

    def _prepare(self, compiled: _Compiled) -> None:
        connection.ensure_connection()
        raw = connection.connection
        if raw not in self._prepared_on:
            with raw.cursor() as cursor:
                cursor.execute(f"PREPARE {self._name} AS {compiled.statement}")
            self._prepared_on.add(raw)

    def rows(self, **values: Any) -> list[dict[str, Any]]:
        if self._compiled is None:
            self._compiled = self._compile()
        compiled = self._compiled
        params = list(compiled.template)
        for index, name in compiled.slots.items():
            params[index] = values[name]
        self._prepare(compiled)
        try:
            with connection.cursor() as cursor:
                cursor.execute(compiled.execute, params)
                fetched = cursor.fetchall()
        except DatabaseError:
            self._prepared_on.discard(connection.connection)  # prepared again next time, should it be gone
            raise
        rows = []
        for fetched_row in fetched:
            row = list(fetched_row)
            for position, (functions, expression) in compiled.converters.items():
                for function in functions:
                    row[position] = function(row[position], expression, connection)
            rows.append(dict(zip(compiled.names, row, strict=True)))
        return rows


def model_columns(model: type[Model], *, path: str = "", prefix: str) -> dict[str, F]:
    """Every concrete column of ``model`` for a ``values()`` read, reached through ``path`` (a relation's name, or
    empty for the queryset's own model) and aliased ``prefix`` + the column's attribute name; with
    :func:`model_from_row` the row becomes a whole instance again, so nothing on it is read lazily later."""
    lead = f"{path}__" if path else ""
    return {f"{prefix}{field.attname}": F(f"{lead}{field.attname}") for field in model._meta.concrete_fields}


def model_from_row(model: type[M], row: Mapping[str, Any], *, prefix: str) -> M:
    """The instance a :func:`model_columns` read holds (as if loaded by a queryset)."""
    fields = model._meta.concrete_fields
    return model.from_db(
        connection.alias, [field.attname for field in fields], [row[f"{prefix}{field.attname}"] for field in fields]
    )


def unnest_arrays(fields: Sequence[Any]) -> str:
    """One typed array parameter per field, for ``unnest(…)``: the way ``rows_update`` and
    ``shop.bulk_insert.objects_insert`` send many rows' values as one array per column."""
    return ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields)


def rows_update(model: type[Model], rows: Sequence[Model], fields: Sequence[str]) -> int:
    """Write ``fields`` of ``rows`` (saved instances of ``model``) in one ``UPDATE … FROM unnest(…)``: one array
    per column, typed from the model's own fields, so its cost does not grow with a CASE per row and field the way
    ``bulk_update`` does (1,000 rows × 8 fields took seconds of Python to build). Returns how many rows changed.
    The caller holds the rows' locks when it needs them."""
    if not rows:
        return 0
    columns = [field for field in model._meta.concrete_fields if field.name in fields]
    if len(columns) != len(fields):
        raise ValueError(f"Not concrete fields of {model.__name__}: {sorted(set(fields) - {f.name for f in columns})}")
    table = model._meta.db_table
    assignments = ", ".join(f'"{field.column}" = v."{field.column}"' for field in columns)
    arrays = unnest_arrays(columns)
    names = ", ".join(f'"{field.column}"' for field in columns)
    sql = (
        f'UPDATE "{table}" AS t SET {assignments} '  # noqa: S608 -- names from the model's metadata; values are parameters
        f"FROM unnest(%s::bigint[], {arrays}) AS v(id, {names}) WHERE t.id = v.id"
    )
    relations = [field for field in columns if field.is_relation]
    for row in rows:
        for field in relations:
            # As bulk_update does: a related object saved since it was assigned gives its id to the foreign key.
            related = row._state.fields_cache.get(field.name)
            if related is not None and getattr(row, field.attname) is None:
                setattr(row, field.attname, related.pk)
    params: list[Any] = [[row.pk for row in rows]]
    params += [[field.get_db_prep_value(getattr(row, field.attname), connection) for row in rows] for field in columns]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)
