"""Inserting many new rows of one model in one statement, without Django preparing each value of each row.

``bulk_create`` asks every field of every instance to prepare its value (``pre_save``, ``get_db_prep_save``…): for a
batch of 1,000 orders with their items and status changes that was about 0.2 s of Python, spent inside the batch's
transaction while other batches waited on its locks. The values the ingestion writes (text, numbers, ``Decimal``,
aware datetimes, booleans, ids) are already what the columns hold, so here they travel as one typed array per
column into ``INSERT … SELECT FROM unnest(…) RETURNING id``, the statement Django itself sends for ``bulk_create``.
JSON and UUID columns are prepared by their field, one value each (a ``Json`` adapter, a ``UUID``), and travel the
same way. A model with another kind of column goes through ``bulk_create``. ``shop.db.rows_update`` is the same idea
for UPDATE.

With ``ignore_conflicts`` it is ``bulk_create(ignore_conflicts=True)``'s statement: ``ON CONFLICT DO NOTHING``, and
the instances get no ids (which rows went in is not known). The outbox and the survey invitations are written so
(their unique keys are what makes queuing twice add nothing); preparing each of their values in ``bulk_create`` was
a third of a scheduling batch's Python.
"""

from collections.abc import Sequence
from typing import Any

from django.db import connection, models
from django.utils import timezone

from shop.db import unnest_arrays

# Columns whose Python values psycopg2 sends as they are, exactly as the field would have prepared them.
_PLAIN_FIELDS = (
    models.CharField,
    models.TextField,
    models.DecimalField,
    models.DateTimeField,
    models.BooleanField,
    models.IntegerField,
    models.ForeignKey,
)
# Columns whose values the field prepares (``get_db_prep_save``) before they join their column's array.
_PREPARED_FIELDS = (models.JSONField, models.UUIDField)


def objects_insert(objects: Sequence[models.Model], *, ignore_conflicts: bool = False) -> None:
    """Insert ``objects`` (new, unsaved instances of one model) as ``bulk_create`` would, and give them their ids;
    with ``ignore_conflicts``, skip the rows a unique key already holds (``ON CONFLICT DO NOTHING``) and give no ids.

    ``auto_now`` / ``auto_now_add`` fields get the current time, as on ``bulk_create``; every other value is taken as
    the instance holds it. Sends no signal (neither does ``bulk_create``)."""
    if not objects:
        return
    model = type(objects[0])
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not (f.primary_key and getattr(objects[0], f.attname) is None)]
    if not all(isinstance(f, _PLAIN_FIELDS + _PREPARED_FIELDS) for f in fields):
        model._default_manager.bulk_create(objects, ignore_conflicts=ignore_conflicts)
        return
    _stamp(objects, fields)
    params = [_column(f, objects) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(_statement(meta, fields, ignore_conflicts=ignore_conflicts), params)
        ids = None if ignore_conflicts else [row[0] for row in cursor.fetchall()]
    for instance in objects:
        instance._state.adding = False
        instance._state.db = connection.alias
    if ids is not None and meta.pk is not None:
        for instance, new_id in zip(objects, ids, strict=True):
            if getattr(instance, meta.pk.attname) is None:
                setattr(instance, meta.pk.attname, new_id)


def _statement(meta: Any, fields: Sequence[models.Field], *, ignore_conflicts: bool) -> str:
    """The INSERT … SELECT FROM unnest(…): names and types from the model's metadata only, every value a parameter."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column or f.attname) for f in fields)
    pk = meta.pk
    if ignore_conflicts:
        ending = "ON CONFLICT DO NOTHING"
    else:
        ending = f"RETURNING {quote(pk.column or pk.attname) if pk is not None else '1'}"
    return f"INSERT INTO {quote(meta.db_table)} ({columns}) SELECT * FROM unnest({unnest_arrays(fields)}) {ending}"  # noqa: S608


def _column(field: models.Field, objects: Sequence[models.Model]) -> list[Any]:
    """One column's values, as the column's array parameter takes them."""
    values = [getattr(instance, field.attname) for instance in objects]
    if isinstance(field, _PREPARED_FIELDS):
        return [field.get_db_prep_save(value, connection) for value in values]
    return values


def _stamp(objects: Sequence[models.Model], fields: Sequence[models.Field]) -> None:
    """The current time into ``auto_now`` / ``auto_now_add`` fields, as their ``pre_save`` would on an insert."""
    now = timezone.now()
    for field in fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            for instance in objects:
                setattr(instance, field.attname, now)
