"""A batch's rows validated by the serializer's own rules, compiled once into a plan of plain checks.

DRF reads each field through several layers of generic calls (``run_validation``, ``validate_empty_values``,
``run_validators``, ``set_value``…): on a batch of 1,000 orders that cost about 0.5–1 s, most of the request. The
plan below is built from the bound serializer (its fields, their ``to_internal_value`` and validators, its
``validate_<field>`` and ``validate`` hooks), so the serializer stays the one definition of a row and of the
published schema; the table :data:`_COMPILERS` says how each kind of field is checked.

The plan only vouches for what it reads exactly as DRF would. Anything else (a wrong type, a missing required
field, a blank, a length or a limit crossed, a value a hook refuses) makes it give the row back to the serializer,
which judges it and words its errors as usual, field by field. A serializer the plan cannot read (a field kind not
in the table, validators that need their field, a custom ``to_internal_value``) is validated by DRF whole.
"""

from collections.abc import Callable, Mapping
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import (
    MaxLengthValidator,
    MaxValueValidator,
    MinLengthValidator,
    MinValueValidator,
    ProhibitNullCharactersValidator,
)
from rest_framework import fields, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.validators import ProhibitSurrogateCharactersValidator

Check = Callable[[Any], Any]
_ABSENT = object()


class Unsure(Exception):
    """The plan cannot vouch for a value: the serializer judges the row."""


class PrecheckedSerializer(serializers.Serializer):
    """A serializer with a cheap look at the raw row before any field is read (``precheck``, raising
    ``ValidationError``), so that an absurd row is refused at the cost of a ``len()``; the plan honours it too."""

    def precheck(self, data: Any) -> None:
        """Refuse ``data`` before its fields are read; nothing by default."""

    def to_internal_value(self, data: Any) -> Any:
        self.precheck(data)
        return super().to_internal_value(data)


def _refusing(function: Callable[..., Any]) -> Check:
    """``function`` with the serializer's refusals turned into :class:`Unsure`."""

    def check(value: Any) -> Any:
        try:
            return function(value)
        except (ValidationError, DjangoValidationError) as error:
            raise Unsure from error

    return check


def _limit_check(validator: Any) -> Callable[[Any], bool] | None:
    """The usual limits inline (DRF would build an error's parameters for each call), ``None`` for others."""
    limit: Any = getattr(validator, "limit_value", None)
    if callable(limit):
        return None
    if isinstance(validator, MaxLengthValidator):
        return lambda value: bool(len(value) <= limit)
    if isinstance(validator, MinLengthValidator):
        return lambda value: bool(len(value) >= limit)
    if type(validator) is MinValueValidator:
        return lambda value: bool(value >= limit)
    if type(validator) is MaxValueValidator:
        return lambda value: bool(value <= limit)
    return None


def _called(validator: Any) -> Callable[[Any], bool]:
    def passes(value: Any) -> bool:
        try:
            validator(value)
        except (ValidationError, DjangoValidationError):
            return False
        return True

    return passes


def _validators_check(field: fields.Field) -> Check | None:
    """The field's validators as one check: NUL and surrogates inline with the string, the usual limits inline, any
    other validator called as DRF calls it; ``None`` for a validator that needs its field."""
    checks: list[Callable[[Any], bool]] = []
    for validator in field.validators:
        if getattr(validator, "requires_context", False):
            return None
        if not isinstance(validator, ProhibitNullCharactersValidator | ProhibitSurrogateCharactersValidator):
            checks.append(_limit_check(validator) or _called(validator))

    def check(value: Any) -> Any:
        if isinstance(value, str) and ("\x00" in value or (not value.isascii() and _has_surrogate(value))):
            raise Unsure
        for passes in checks:
            if not passes(value):
                raise Unsure
        return value

    return check


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _leaf(field: fields.Field) -> Check | None:
    """A scalar field: its own ``to_internal_value``, then its validators (DRF's order)."""
    validators = _validators_check(field)
    if validators is None:
        return None
    convert = _refusing(field.to_internal_value)
    if isinstance(field, fields.DecimalField):
        return lambda value: validators(convert(_not_blank(value)))
    if not isinstance(field, fields.CharField):
        return lambda value: validators(convert(value))
    allow_blank, trim = field.allow_blank, field.trim_whitespace

    def check(value: Any) -> Any:
        # CharField.run_validation answers a blank before converting or validating it.
        if value == "" or (trim and isinstance(value, str) and not value.strip()):
            if not allow_blank:
                raise Unsure
            return ""
        return validators(convert(value))

    return check


def _not_blank(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        raise Unsure
    return value


def _list_field(field: fields.ListField) -> Check | None:
    child, validators = _field_value(field.child) if field.child else None, _validators_check(field)
    if child is None or validators is None:
        return None
    allow_empty = field.allow_empty

    def check(value: Any) -> Any:
        if type(value) is not list or (not value and not allow_empty):
            raise Unsure
        return validators([child(item) for item in value])

    return check


def _list_serializer(field: serializers.ListSerializer) -> Check | None:
    child = _serializer(field.child) if isinstance(field.child, serializers.Serializer) else None
    if child is None or field.validators or type(field).validate is not serializers.ListSerializer.validate:
        return None
    allow_empty, low, high = field.allow_empty, getattr(field, "min_length", None), getattr(field, "max_length", None)

    def check(value: Any) -> Any:
        if type(value) is not list or (not value and not allow_empty):
            raise Unsure
        if (high is not None and len(value) > high) or (low is not None and len(value) < low):
            raise Unsure
        return [child(item) for item in value]

    return check


# How DRF may treat an absent, null or blank value; the plan reads absent and null values as the first does, and
# gives a blank decimal back to the serializer (DecimalField reads it as null when nulls are allowed).
_EMPTY_VALUES = (fields.Field.validate_empty_values, fields.DecimalField.validate_empty_values)

# What each kind of field is checked by; a field whose class overrides how DRF runs it is not in the table.
_COMPILERS: dict[Callable[..., Any], Callable[[Any], Check | None]] = {
    fields.Field.run_validation: _leaf,
    fields.CharField.run_validation: _leaf,
    serializers.Serializer.run_validation: lambda field: _serializer(field),
    serializers.ListSerializer.run_validation: _list_serializer,
}


def _field_value(field: fields.Field) -> Check | None:
    """The check of a present, non-null value of ``field``, or ``None`` when the plan cannot read that field."""
    if field.read_only or field.source == "*" or type(field).validate_empty_values not in _EMPTY_VALUES:
        return None
    if isinstance(field, fields.ListField):
        return _list_field(field)
    compiler = _COMPILERS.get(type(field).run_validation)
    return None if compiler is None else compiler(field)


def _hook(serializer: serializers.Serializer, name: str) -> Check | None:
    method = getattr(serializer, f"validate_{name}", None) if name else None
    return None if method is None else _refusing(method)


def _field_step(serializer: serializers.Serializer, field: fields.Field) -> tuple[Any, ...] | None:
    """How the plan reads one field of a row: (name, output key, required, default, null allowed, check, hook)."""
    check = _field_value(field)
    if check is None or len(field.source_attrs) != 1:
        return None
    default = field.default
    if default is not fields.empty and callable(default) and getattr(default, "requires_context", False):
        return None
    default = _ABSENT if default is fields.empty else default
    return (
        field.field_name,
        field.source_attrs[0],
        field.required,
        default,
        field.allow_null,
        check,
        _hook(serializer, field.field_name or ""),
    )


def _serializer(serializer: serializers.Serializer) -> Check | None:
    """A nested or row serializer: its fields in order, each with its ``validate_<field>``, then ``validate``."""
    own = type(serializer)
    prechecked = own.to_internal_value is PrecheckedSerializer.to_internal_value
    if not (prechecked or own.to_internal_value is serializers.Serializer.to_internal_value) or serializer.validators:
        return None
    steps = [_field_step(serializer, field) for field in serializer._writable_fields]
    if any(step is None for step in steps):
        return None
    precheck = _refusing(serializer.precheck) if prechecked else None  # type: ignore[attr-defined]
    validate = None if own.validate is serializers.Serializer.validate else _refusing(serializer.validate)

    def check(row: Any) -> Any:
        if not isinstance(row, Mapping):
            raise Unsure
        if precheck is not None:
            precheck(row)
        attrs = _read_fields(row, steps)  # type: ignore[arg-type]
        return attrs if validate is None else validate(attrs)

    return check


def _read_fields(row: Mapping[str, Any], steps: list[tuple[Any, ...]]) -> dict[str, Any]:
    """Each field as ``Serializer.to_internal_value`` reads it: absent → required, default or skipped; null → allowed
    or not; else checked; then its hook."""
    attrs: dict[str, Any] = {}
    for name, key, required, default, allow_null, check, hook in steps:
        value = row.get(name, _ABSENT)
        if value is _ABSENT:
            if required:
                raise Unsure
            if default is _ABSENT:
                continue
            value = default() if callable(default) else default
        elif value is None:
            if not allow_null:
                raise Unsure
        else:
            value = check(value)
        attrs[key] = value if hook is None else hook(value)
    return attrs


def row_plan(serializer: serializers.Serializer) -> Check | None:
    """The plan of one row of ``serializer`` (bound, as the batch's list serializer's child), or ``None`` when the
    serializer has something the plan cannot read. The plan returns the row's validated data or raises
    :class:`Unsure`."""
    return _serializer(serializer)
