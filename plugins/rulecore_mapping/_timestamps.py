"""Timestamp parsers, compiled once per format.

``datetime.strptime`` takes a lock and looks the pattern up on every call, which makes it the
slowest step of reading an export.  A format here is compiled once into a regular expression
with one group per directive, and a match is assembled into a ``datetime`` from integers.
Accepted directives: ``%Y %y %m %d %H %I %M %S %f %p %b %z %%``; ``%d``, ``%m``, ``%H``,
``%I``, ``%M`` and ``%S`` accept one or two digits (``29/2/2016 01:16``).  Three formats are
keywords: ``iso8601``, ``epoch`` (seconds) and ``epoch_ms``.

Timestamps without an offset are read in the mapping's IANA time zone.  A local time that
occurs twice (clocks going back) is read as the first of the two; one that does not exist
(clocks going forward) is read with the offset in force before the change.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone, tzinfo

from rulecore.i18n import _

ParseTimestamp = Callable[[str], datetime]

KEYWORDS = ("iso8601", "epoch", "epoch_ms")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DIRECTIVES = {
    "Y": r"(\d{4})",
    "y": r"(\d{2})",
    "m": r"(\d{1,2})",
    "d": r"(\d{1,2})",
    "H": r"(\d{1,2})",
    "I": r"(\d{1,2})",
    "M": r"(\d{1,2})",
    "S": r"(\d{1,2})",
    "f": r"(\d{1,6})",
    "p": r"([AaPp][Mm])",
    "b": r"([A-Za-z]{3})",
    "z": r"(Z|[+-]\d{2}:?\d{2})",
}
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
#: Distinct values remembered per column; exports repeat the same timestamp on many rows.
CACHE_SIZE = 65536


def compile_format(text: str, zone: tzinfo) -> ParseTimestamp:
    """Compile one format into a parser; raise ``ValueError`` for a format it cannot read.

    The parser raises ``ValueError`` for text that does not match or is not a real date.
    """
    if text == "iso8601":
        return _iso8601(zone)
    if text in ("epoch", "epoch_ms"):
        return _epoch(1000.0 if text == "epoch_ms" else 1.0)
    pattern, order = _pattern(text)
    return _assembler(re.compile(pattern), order, zone, text)


def compile_formats(formats: Sequence[str], zone: tzinfo) -> ParseTimestamp:
    """A parser that tries each format in turn, remembering recent results."""
    words = " or ".join(repr(text) for text in formats)
    if tuple(formats) == ("iso8601",):
        # Parsing ISO text is about as fast as looking it up, and exports seldom repeat a
        # timestamp to the second, so the only format needs no cache.
        return _iso8601(zone, failure=_("not in the format {words}").format(words=words))
    parsers = [compile_format(text, zone) for text in formats]
    cache: dict[str, datetime] = {}

    def parse(value: str) -> datetime:
        found = cache.get(value)
        if found is not None:
            return found
        for parser in parsers:
            try:
                moment = parser(value)
            except ValueError:
                continue
            if len(cache) >= CACHE_SIZE:
                cache.clear()
            cache[value] = moment
            return moment
        raise ValueError(_("{value!r}, not in the format {words}").format(value=value, words=words))

    return parse


def _pattern(text: str) -> tuple[str, list[str]]:
    parts: list[str] = []
    order: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char != "%":
            parts.append(r"\s+" if char == " " else re.escape(char))
            index += 1
            continue
        if index + 1 >= len(text):
            raise ValueError(_("format {format!r} ends with a lone '%'").format(format=text))
        directive = text[index + 1]
        index += 2
        if directive == "%":
            parts.append("%")
            continue
        if directive not in _DIRECTIVES:
            known = " ".join("%" + key for key in _DIRECTIVES)
            raise ValueError(
                _("format {format!r}: {directive} is not supported (use {known})").format(
                    format=text, directive="%" + directive, known=known
                )
            )
        if directive in order:
            raise ValueError(
                _("format {format!r} uses {directive} twice").format(
                    format=text, directive="%" + directive
                )
            )
        parts.append(_DIRECTIVES[directive])
        order.append(directive)
    if "Y" not in order and "y" not in order:
        raise ValueError(_("format {format!r} has no year (%Y or %y)").format(format=text))
    for needed in ("m", "d"):
        if needed not in order and not (needed == "m" and "b" in order):
            raise ValueError(
                _("format {format!r} has no {directive}").format(
                    format=text, directive="%" + needed
                )
            )
    if "I" in order and "p" not in order:
        raise ValueError(
            _("format {format!r} uses %I (12-hour clock) without %p (AM/PM)").format(format=text)
        )
    return r"\s*" + "".join(parts) + r"\s*", order


def _assembler(
    pattern: re.Pattern[str], order: list[str], zone: tzinfo, text: str
) -> ParseTimestamp:
    position = {directive: index for index, directive in enumerate(order)}
    year_at, short_year_at = position.get("Y"), position.get("y")
    month_at, month_name_at = position.get("m"), position.get("b")
    day_at = position["d"]
    hour_at, twelve_at, ampm_at = position.get("H"), position.get("I"), position.get("p")
    minute_at, second_at, fraction_at = position.get("M"), position.get("S"), position.get("f")
    offset_at = position.get("z")
    fullmatch = pattern.fullmatch

    def parse(value: str) -> datetime:
        match = fullmatch(value)
        if match is None:
            raise ValueError(
                _("{value!r} does not match {format!r}").format(value=value, format=text)
            )
        groups = match.groups()
        if year_at is not None:
            year = int(groups[year_at])
        else:
            short = int(groups[short_year_at])  # type: ignore[index]
            year = 2000 + short if short < 69 else 1900 + short
        if month_at is not None:
            month = int(groups[month_at])
        else:
            month = _month_number(groups[month_name_at])  # type: ignore[index]
        if hour_at is not None:
            hour = int(groups[hour_at])
        elif twelve_at is not None:
            hour = _twelve_hour(int(groups[twelve_at]), groups[ampm_at])  # type: ignore[index]
        else:
            hour = 0
        minute = int(groups[minute_at]) if minute_at is not None else 0
        second = int(groups[second_at]) if second_at is not None else 0
        micro = int(groups[fraction_at].ljust(6, "0")) if fraction_at is not None else 0
        where = _offset(groups[offset_at]) if offset_at is not None else zone
        return datetime(year, month, int(groups[day_at]), hour, minute, second, micro, where)

    return parse


def _month_number(name: str) -> int:
    try:
        return _MONTHS.index(name.lower()) + 1
    except ValueError:
        raise ValueError(_("{name!r} is not a month").format(name=name)) from None


def _twelve_hour(hour: int, ampm: str) -> int:
    if not 1 <= hour <= 12:
        raise ValueError(_("hour {hour} is not on a 12-hour clock").format(hour=hour))
    afternoon = ampm.lower() == "pm"
    return (hour % 12) + (12 if afternoon else 0)


def _offset(text: str) -> tzinfo:
    if text == "Z":
        return timezone.utc
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def _iso8601(zone: tzinfo, failure: str | None = None) -> ParseTimestamp:
    """ISO 8601 text; ``failure`` words the error as ``'TEXT', FAILURE`` when given."""
    fromisoformat = datetime.fromisoformat

    def parse(value: str) -> datetime:
        try:  # the fast path: Python 3.11+ reads 2026-03-02T09:15:00Z as it stands
            moment = fromisoformat(value)
        except ValueError:
            return parse_slowly(value)
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)

    def parse_slowly(value: str) -> datetime:
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            moment = fromisoformat(text)
        except ValueError:
            if failure is None:
                raise
            raise ValueError(
                _("{value!r}, {failure}").format(value=value, failure=failure)
            ) from None
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)

    return parse


def _epoch(per_second: float) -> ParseTimestamp:
    def parse(value: str) -> datetime:
        return _EPOCH + timedelta(seconds=float(value) / per_second)

    return parse


class PlaceholderDate(ValueError):
    """A timestamp outside the plausible range: a stand-in for an unknown date."""


def within(
    parse: ParseTimestamp, earliest: datetime | None, latest: datetime | None
) -> ParseTimestamp:
    """A parser that also refuses placeholder dates: before ``earliest`` or after ``latest``.

    Exports write 1900-01-01 or 1970-01-01 where a date is unknown; read as a real date it
    would make a case last a century, so the row is rejected instead.
    """

    # Compared in UTC: against a ZoneInfo bound, each comparison asks the zone for its
    # offset, which costs more than parsing the timestamp.
    earliest_utc, latest_utc = in_utc(earliest), in_utc(latest)
    earliest_day = earliest.date() if earliest is not None else None
    latest_day = latest.date() if latest is not None else None

    def parse_within(value: str) -> datetime:
        moment = parse(value)
        if earliest_utc is not None and moment < earliest_utc:
            raise PlaceholderDate(
                _(
                    "{value!r}, before the earliest plausible date {day} "
                    "(a placeholder for an unknown date?)"
                ).format(value=value, day=earliest_day)
            )
        if latest_utc is not None and moment > latest_utc:
            raise PlaceholderDate(
                _(
                    "{value!r}, after the latest plausible date {day} "
                    "(a placeholder for an unknown date?)"
                ).format(value=value, day=latest_day)
            )
        return moment

    return parse_within


def in_utc(moment: datetime | None) -> datetime | None:
    """The same instant with the ``timezone.utc`` offset, for cheap comparisons."""
    return None if moment is None else moment.astimezone(timezone.utc)
