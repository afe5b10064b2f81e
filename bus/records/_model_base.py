"""The base class and field rules of the generated record models (``bus.records.models``).

Models are generated from the ``.avsc`` files; this module holds what they share: conversion to and
from the Avro dict, the Kafka key, and the domain rules (CURP, RFC, patterns, bounds, constants) as
pydantic validators whose error types are Enlace's rule ids.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import typing
import uuid
from typing import Annotated, Any, ClassVar, Self

import pydantic
import pydantic.fields
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, PrivateAttr, Strict, model_validator
from pydantic_core import PydanticCustomError

from bus._errors import ValidationError
from bus.records._rules import (
    FIELD_RULES,
    INT_RANGE,
    LONG_RANGE,
    decimal_problems,
    integer_problems,
    shared_type_has_no_key,
    timestamp_problems,
    uuid_problems,
)

__all__ = [
    "Bool",
    "Const",
    "Curp",
    "DecimalDigits",
    "Frozen",
    "Int",
    "Long",
    "Maximum",
    "Minimum",
    "Pattern",
    "RecordModel",
    "Rfc",
    "RfcLenient",
    "Timestamp",
    "Uuid",
]

# pydantic reports a record's shape itself (a field missing, one the schema does not know, a symbol
# no enum has); these are its names for them. Every other rule is one of ``_rules``' checks, raised
# with Enlace's own rule id, so nothing else needs translating.
# The ids of FIELD_RULES' checks; every other id of ours is dotted (avro.*, curp.*, rfc.*).
_UNDOTTED_RULES = frozenset({"pattern", "range", "const"})
_SHAPE_ERRORS = {
    "missing": "avro.required",
    "extra_forbidden": "avro.unknown_field",
    "literal_error": "avro.enum",
}


class RecordModel(BaseModel):
    """A shared record as a typed, immutable Python object.

    Fields have Python names (``case_id``) and accept the Avro names too (``caseId``). Construction
    checks types and domain rules and raises ``bus.ValidationError`` listing every problem.

    A model built by validation (the constructor, ``from_avro``, ``model_validate``) is known valid
    for its whole life, so a publish does not check it again (``checked``): it is frozen, its lists
    and maps refuse changes (``Frozen``), a nested model passed in is validated again
    (``revalidate_instances``), and ``model_copy(update=...)`` validates its result as a new record.
    Only ``model_construct`` (which pydantic never validates) gives an unchecked model.

    Attributes:
        avro_name: the record's Avro full name.
        avro_version: the catalog version the model was generated from.
        avro_fingerprint: the schema's fingerprint at generation, checked by ``RecordType.model``.
        avro_key: Python attribute path of the key field (empty for shared types).
    """

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        revalidate_instances="always",
    )

    avro_name: ClassVar[str]
    avro_version: ClassVar[int]
    avro_fingerprint: ClassVar[str]
    avro_key: ClassVar[tuple[str, ...]] = ()

    # Set by the validator below, which pydantic runs only when it validates (never in model_construct);
    # a copy carries it only with the very values it was set for (model_copy with an update validates).
    _checked: bool = PrivateAttr(False)

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except pydantic.ValidationError as exc:
            raise _as_enlace_error(type(self), exc) from None

    # Marks this __init__ as pydantic's own, so nested models are validated by pydantic's core (all
    # problems collected, with their full path) instead of through this wrapper.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @model_validator(mode="after")
    def _mark_checked(self) -> Self:
        self.__pydantic_private__["_checked"] = True  # type: ignore[index]
        return self

    @property
    def checked(self) -> bool:
        """True when every type and domain rule was checked on exactly these values (False for a model
        made with ``model_construct``)."""
        return self._checked

    def model_copy(self, *, update: typing.Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy, with ``update``'s values (Python or Avro field names) validated as a new record.

        Raises:
            ValidationError: the updated record breaks a type or domain rule (pydantic's own
                ``model_copy`` would not check it).
        """
        if not update:
            return super().model_copy(deep=deep)
        names = _field_names(type(self))
        data = dict(self.__dict__)
        for name, value in update.items():
            data[names.get(name, name)] = value
        return type(self)(**data)

    @classmethod
    def from_avro(cls, data: dict[str, Any], *, strict: bool = False) -> Self:
        """Build the model from the Avro dict (what ``Codec.decode`` returns for this version).

        Args:
            data: the Avro dict.
            strict: refuse a value of another type instead of converting it (a string for a date, an
                int for a timestamp), as ``bus.records.check`` does: the dict is what gets encoded.

        Raises:
            ValidationError: the dict breaks the model's types or domain rules.
        """
        try:
            return cls.model_validate(data, strict=strict)
        except pydantic.ValidationError as exc:
            raise _as_enlace_error(cls, exc) from None

    def to_avro(self) -> dict[str, Any]:
        """The record as the Avro dict (Avro field names; ``date``, ``datetime``, ``Decimal``, ``UUID``
        values), ready for ``Codec.encode``."""
        return self.model_dump(by_alias=True)

    def key(self) -> str:
        """The record's Kafka key and CloudEvents subject (its CURP, RFC, case id...).

        Raises:
            ValidationError: the model is a shared type, which is never sent alone.
        """
        if not self.avro_key:
            raise shared_type_has_no_key(self.avro_name)
        value: Any = self
        for attribute in self.avro_key:
            value = getattr(value, attribute)
        return str(value)


@functools.cache
def _field_names(cls: type[BaseModel]) -> dict[str, str]:
    """Each field's Avro name (alias) to its Python name."""
    return {field.alias: name for name, field in cls.model_fields.items() if field.alias}


def _as_enlace_error(cls: type[RecordModel], exc: pydantic.ValidationError) -> ValidationError:
    problems = []
    for error in exc.errors(include_url=False):
        kind = error["type"]
        # A rule of ours is raised under its own id; anything else pydantic finds is a wrong type.
        rule = _SHAPE_ERRORS.get(kind) or (kind if kind in _UNDOTTED_RULES or "." in kind else "avro.type")
        path = _avro_pointer(cls, error["loc"])
        problems.append(
            ValidationError(error["msg"], record=cls.avro_name, path=path, rule=rule, value=error.get("input"))
        )
    headline = f"{cls.__name__} ({cls.avro_name} v{cls.avro_version}) is not valid"
    return ValidationError.of_problems(headline, problems, record=cls.avro_name)


def _avro_pointer(cls: type[BaseModel], loc: tuple[int | str, ...]) -> str:
    """The JSON pointer, in Avro field names, of a pydantic error location (which may use either
    the Python or the Avro name of each field)."""
    model: type[BaseModel] | None = cls
    skip = 0  # list indexes or map keys to pass before the next model's fields
    tokens = []
    for part in loc:
        token = str(part)
        if skip:
            skip -= 1
        elif model is not None:
            field = _field(model, token)
            if field is not None:
                token = field.alias or token
                model, skip = _inner_model(field.annotation)
        tokens.append("/" + token.replace("~", "~0").replace("/", "~1"))
    return "".join(tokens)


def _field(model: type[BaseModel], name: str) -> pydantic.fields.FieldInfo | None:
    if name in model.model_fields:
        return model.model_fields[name]
    return next((f for f in model.model_fields.values() if f.alias == name), None)


def _inner_model(annotation: Any, depth: int = 0) -> tuple[type[BaseModel] | None, int]:
    """The model inside a field's type and how many list/map levels lie between."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, depth
    origin = typing.get_origin(annotation)
    container = origin in (list, dict)
    for argument in typing.get_args(annotation):
        found, levels = _inner_model(argument, depth + 1 if container else depth)
        if found is not None:
            return found, levels
    return None, depth


def _fail(problems: list[ValidationError]) -> None:
    if problems:
        message = "; ".join(p.message for p in problems)
        # The message goes through the context: a literal template would read "{5}" as a placeholder.
        raise PydanticCustomError(problems[0].rule or "domain", "{message}", {"message": message})


def _validator(attribute: str, argument: Any) -> AfterValidator:
    """A pydantic validator running the check ``FIELD_RULES[attribute]`` builds from ``argument``."""
    check = FIELD_RULES[attribute](argument)
    assert check is not None, f"{attribute} {argument!r} declares no check"

    def validate(value: Any) -> Any:
        # The JSON pointer and record are added from pydantic's error location (_avro_pointer).
        _fail(check(value, "", None))
        return value

    return AfterValidator(validate)


# Per record, so each validator calls its rule's check only when the value breaks it (the check
# then says so with the rule's own id and message).


def _millis(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        _fail(timestamp_problems(value, "", None))
    # timestamp-millis keeps milliseconds: cut the rest here so a model equals its decoded self.
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def _int(value: int) -> int:
    if not INT_RANGE[0] <= value <= INT_RANGE[1]:
        _fail(integer_problems(value, "", None, kind="int"))
    return value


def _long(value: int) -> int:
    if not LONG_RANGE[0] <= value <= LONG_RANGE[1]:
        _fail(integer_problems(value, "", None, kind="long"))
    return value


def _uuid_text(value: Any) -> Any:
    # Before pydantic parses it, so that a string that is no UUID is Enlace's avro.uuid.
    if isinstance(value, str):
        _fail(uuid_problems(value, "", None))
    return value


class _FrozenList(list[Any]):
    """A record's list: reads as a list, refuses changes (the record was validated with these items)."""

    def _refuse(self, *args: Any, **kwargs: Any) -> typing.NoReturn:
        raise TypeError(_FROZEN_MESSAGE)

    append = extend = insert = pop = remove = clear = sort = reverse = _refuse  # type: ignore[assignment]
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:  # copy and pickle rebuild it whole, never item by item
        return (_FrozenList, (list(self),))


class _FrozenDict(dict[Any, Any]):
    """A record's map: reads as a dict, refuses changes."""

    def _refuse(self, *args: Any, **kwargs: Any) -> typing.NoReturn:
        raise TypeError(_FROZEN_MESSAGE)

    pop = popitem = clear = update = setdefault = _refuse  # type: ignore[assignment]
    __setitem__ = __delitem__ = __ior__ = _refuse  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        return (_FrozenDict, (dict(self),))


_FROZEN_MESSAGE = (
    "a record's lists and maps cannot be changed: make a new record, e.g. record.model_copy(update={...}), "
    "which is validated"
)


def _freeze(value: Any) -> Any:
    if isinstance(value, list):
        return _FrozenList(value)
    if isinstance(value, dict):
        return _FrozenDict(value)
    return value


Frozen = AfterValidator(_freeze)
"""A validator: the list or map, once validated, refuses changes (an Avro array or map field)."""

Curp = _validator("format", "curp")
Rfc = _validator("format", "rfc")
RfcLenient = _validator("format", "rfc-lenient")
Timestamp = Annotated[dt.datetime, AfterValidator(_millis)]
Bool = Annotated[bool, Strict()]
Int = Annotated[int, Strict(), AfterValidator(_int)]
Long = Annotated[int, Strict(), AfterValidator(_long)]
Uuid = Annotated[uuid.UUID, BeforeValidator(_uuid_text)]


@functools.cache
def DecimalDigits(precision: int, scale: int) -> AfterValidator:  # capitalised: reads as a type annotation
    """A validator: a finite decimal that ``decimal(precision, scale)`` holds (rule ``avro.decimal``)."""

    def check(value: decimal.Decimal) -> decimal.Decimal:
        _fail(decimal_problems(value, "", None, precision=precision, scale=scale))
        return value

    return AfterValidator(check)


@functools.cache
def Pattern(pattern: str) -> AfterValidator:  # capitalised: reads as a type annotation
    """A validator: the whole string must match ``pattern`` (rule ``pattern``)."""
    return _validator("pattern", pattern)


def Minimum(limit: float) -> AfterValidator:
    """A validator: the number must be at least ``limit`` (rule ``range``)."""
    return _validator("minimum", limit)


def Maximum(limit: float) -> AfterValidator:
    """A validator: the number must be at most ``limit`` (rule ``range``)."""
    return _validator("maximum", limit)


def Const(expected: Any) -> AfterValidator:
    """A validator: the value must equal ``expected`` (rule ``const``)."""
    return _validator("const", expected)
