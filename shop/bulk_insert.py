"""Inserting many new rows of one model in one statement, without Django preparing each value of each row.

``bulk_create`` asks every field of every instance to prepare its value (``pre_save``, ``get_db_prep_save``…): for a
batch of 1,000 orders with their items and status changes that was about 0.2 s of Python, spent inside the batch's
transaction while other batches waited on its locks. The values the ingestion writes (text, numbers, ``Decimal``,
aware datetimes, booleans, ids) are already what the columns hold, so here they travel as one typed array per
column into ``INSERT … SELECT FROM unnest(…) RETURNING id``, the statement Django itself sends for ``bulk_create``.
A model with another kind of column goes through ``bulk_create``. ``shop.db.rows_update`` is the same idea for
UPDATE.
"""

from collections.abc import Sequence

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


def objects_insert(objects: Sequence[models.Model]) -> None:
    """Insert ``objects`` (new, unsaved instances of one model) as ``bulk_create`` would, and give them their ids.

    ``auto_now`` / ``auto_now_add`` fields get the current time, as on ``bulk_create``; every other value is taken as
    the instance holds it. Sends no signal (neither does ``bulk_create``)."""
    if not objects:
        return
    model = type(objects[0])
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not (f.primary_key and getattr(objects[0], f.attname) is None)]
    if not all(isinstance(f, _PLAIN_FIELDS) for f in fields):
        model._default_manager.bulk_create(objects)
        return
    _stamp(objects, fields)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column or f.attname) for f in fields)
    arrays = unnest_arrays(fields)
    pk = meta.pk
    returning = quote(pk.column or pk.attname) if pk is not None else "1"
    # Names and types from the model's metadata only; every value travels as a parameter.
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) SELECT * FROM unnest({arrays}) RETURNING {returning}"  # noqa: S608
    params = [[getattr(instance, f.attname) for instance in objects] for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = [row[0] for row in cursor.fetchall()]
    for instance, new_id in zip(objects, ids, strict=True):
        if pk is not None and getattr(instance, pk.attname) is None:
            setattr(instance, pk.attname, new_id)
        instance._state.adding = False
        instance._state.db = connection.alias


def _stamp(objects: Sequence[models.Model], fields: Sequence[models.Field]) -> None:
    """The current time into ``auto_now`` / ``auto_now_add`` fields, as their ``pre_save`` would on an insert."""
    now = timezone.now()
    for field in fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            for instance in objects:
                setattr(instance, field.attname, now)
