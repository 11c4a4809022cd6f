"""Reading one value out of a row: missing markers, value maps, types and timestamps.

Every value a mapping names compiles once into a :data:`ReadValue`, a function of the row's
projected values (the columns the mapping uses, in a fixed order).  A value that cannot be
read raises :class:`RowProblem`, whose message becomes the rejection's reason.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any, NamedTuple

from rulecore.i18n import N_, _

from ._timestamps import ParseTimestamp, PlaceholderDate

Scalar = str | int | float | bool | None

Row = Sequence[Any]
ReadValue = Callable[[Row], Scalar]
ReadMoment = Callable[[Row], "datetime | None"]

_TRUE = frozenset(("true", "t", "yes", "y", "1"))
_FALSE = frozenset(("false", "f", "no", "n", "0"))


_NOT_WHOLE = N_("not a whole number: column {column!r} has {value!r}")
_NOT_NUMBER = N_("not a number: column {column!r} has {value!r}")


class RowProblem(Exception):
    """A row that cannot be read; the message says which column and why."""


class Plain(NamedTuple):
    """A column value read by its missing markers, type and default alone: no value map.

    A compiled reader may inline such a value; anything else it reads through ``read``.
    """

    position: int  #: its place in the projected row
    missing: frozenset[str]
    kind: str  #: text or integer
    required: bool
    default: Scalar = None  #: what a missing value reads as


class IsoMoment(NamedTuple):
    """A required timestamp column whose first format is ``iso8601``: what a compiled reader
    needs to read it exactly as :func:`column_moment` does, when ``fromisoformat`` can."""

    missing: frozenset[str]
    zone: tzinfo
    earliest: datetime | None
    latest: datetime | None


def present(raw: Any, missing: Collection[str]) -> Any:
    """The raw value, stripped when it is text, or ``None`` when it is a missing marker."""
    if raw is None:
        return None
    if isinstance(raw, str):
        text = raw.strip()
        return None if text in missing else text
    if isinstance(raw, (list, dict)):
        return json.dumps(raw, sort_keys=True, ensure_ascii=False)
    return raw


def constant(value: Scalar) -> ReadValue:
    def read(_row: Row) -> Scalar:
        return value

    return read


def column_value(
    position: int,
    column: str,
    missing: Collection[str],
    *,
    value_map: Mapping[str, Scalar] | None = None,
    unmapped: str = "keep",
    kind: str = "text",
    default: Scalar = None,
    required: bool = False,
    parse_timestamp: ParseTimestamp | None = None,
) -> ReadValue:
    """Compile the reading of one column, in this order: missing marker, value map, default,
    required, type."""
    if kind == "text" and value_map is None:
        if default is None and not required:
            return _plain_text(position, missing)
        return _text_or_default(position, column, missing, default, required)
    convert = _converter(kind, column, parse_timestamp)

    def read(row: Row) -> Scalar:
        value = row[position]
        if isinstance(value, str):  # present(), inlined for the common case
            value = value.strip()
            if value in missing:
                value = None
        else:
            value = present(value, missing)
        if value is not None and value_map is not None:
            key = value if isinstance(value, str) else _key(value)
            if key in value_map:
                value = value_map[key]
            elif unmapped == "missing":
                value = None
            elif unmapped == "reject":
                raise RowProblem(
                    _("value not in the map: column {column!r} has {value!r}").format(
                        column=column, value=value
                    )
                )
        if value is None:
            if default is not None:
                return default
            if required:
                raise RowProblem(
                    _("missing value: column {column!r} is empty").format(column=column)
                )
            return None
        return convert(value)

    return read


def _plain_text(position: int, missing: Collection[str]) -> ReadValue:
    """The most common value, a column read as it is: :func:`present` inlined, since it runs
    for every value of every row (and every element of a timeline)."""

    def read(row: Row) -> Scalar:
        value = row[position]
        if isinstance(value, str):
            text = value.strip()
            return None if text in missing else text
        if isinstance(value, (list, dict)):
            return json.dumps(value, sort_keys=True, ensure_ascii=False)
        return value  # type: ignore[no-any-return]

    return read


def _text_or_default(
    position: int, column: str, missing: Collection[str], default: Scalar, required: bool
) -> ReadValue:
    """A column read as it is, with a default or required: as :func:`_plain_text`."""

    def read(row: Row) -> Scalar:
        value = row[position]
        if isinstance(value, str):
            value = value.strip()
            if value in missing:
                value = None
        elif isinstance(value, (list, dict)):
            return json.dumps(value, sort_keys=True, ensure_ascii=False)
        if value is None:
            if default is not None:
                return default
            if required:
                raise RowProblem(
                    _("missing value: column {column!r} is empty").format(column=column)
                )
        return value  # type: ignore[no-any-return]

    return read


def _key(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _converter(
    kind: str, column: str, parse_timestamp: ParseTimestamp | None
) -> Callable[[Any], Scalar]:
    if kind == "integer":
        return lambda value: _integer(value, column)
    if kind == "number":
        return lambda value: _number(value, column)
    if kind == "boolean":
        return lambda value: _boolean(value, column)
    if kind == "timestamp":
        assert parse_timestamp is not None
        parse = parse_timestamp
        return lambda value: moment_text(parse, value, column)
    return _keep


def _keep(value: Any) -> Scalar:
    return value  # type: ignore[no-any-return]


def _integer(value: Any, column: str) -> int:
    if isinstance(value, bool):
        raise RowProblem(_(_NOT_WHOLE).format(column=column, value=value))
    if isinstance(value, int):
        return value
    try:
        number = float(value) if isinstance(value, float) else int(str(value))
    except ValueError:
        raise RowProblem(_(_NOT_WHOLE).format(column=column, value=value)) from None
    if isinstance(number, float):
        if not number.is_integer():
            raise RowProblem(_(_NOT_WHOLE).format(column=column, value=value))
        return int(number)
    return number


def _number(value: Any, column: str) -> float:
    if isinstance(value, bool):
        raise RowProblem(_(_NOT_NUMBER).format(column=column, value=value))
    try:
        number = float(value)
    except ValueError:
        raise RowProblem(_(_NOT_NUMBER).format(column=column, value=value)) from None
    if not math.isfinite(number):
        raise RowProblem(_(_NOT_NUMBER).format(column=column, value=value))
    return number


def _boolean(value: Any, column: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise RowProblem(
        _("not true or false: column {column!r} has {value!r}").format(column=column, value=value)
    )


def moment_text(parse: ParseTimestamp, value: Any, column: str) -> str:
    """A timestamp attribute or field: read, checked, and written as ISO 8601 with its offset."""
    return read_moment(parse, value, column).isoformat()


def read_moment(parse: ParseTimestamp, value: Any, column: str) -> datetime:
    """Parse one timestamp value, wording a failure as a row problem."""
    try:
        return parse(str(value))
    except PlaceholderDate as error:
        raise RowProblem(
            _("placeholder date: column {column!r} has {error}").format(column=column, error=error)
        ) from None
    except ValueError as error:
        raise RowProblem(
            _("bad timestamp: column {column!r} has {error}").format(column=column, error=error)
        ) from None


def column_moment(
    position: int,
    column: str,
    missing: Collection[str],
    parse: ParseTimestamp,
    *,
    required: bool = False,
) -> ReadMoment:
    """Compile the reading of a timestamp column into a ``datetime`` (``None`` when missing)."""

    def read(row: Row) -> datetime | None:
        value = row[position]
        if isinstance(value, str):  # present(), inlined for the common case
            value = value.strip()
            if value in missing:
                value = None
        else:
            value = present(value, missing)
        if value is None:
            if required:
                raise RowProblem(
                    _("missing timestamp: column {column!r} is empty").format(column=column)
                )
            return None
        return read_moment(parse, value, column)

    return read
