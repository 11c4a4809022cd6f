"""Durations written the way people write them: ``90s``, ``4h``, ``2d``, ``1h30m``."""

from __future__ import annotations

import re
from functools import lru_cache

from ._i18n import _

_UNIT_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_PART = re.compile(r"(\d+(?:\.\d+)?)([wdhms])")
_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?[wdhms])+")


def parse_duration(text: str | int | float) -> float:
    """Return the number of seconds in ``text``; a bare number is already seconds.

    >>> parse_duration("1h30m")
    5400.0
    """
    if isinstance(text, bool):
        raise ValueError(_("{value!r} is not a duration").format(value=text))
    if isinstance(text, (int, float)):
        if text < 0:
            raise ValueError(_("a duration cannot be negative: {value!r}").format(value=text))
        return float(text)
    compact = text.strip().replace(" ", "").lower()
    if not _WHOLE.fullmatch(compact):
        raise ValueError(
            _("{value!r} is not a duration; write it like 90s, 15m, 4h, 2d, 1w or 1h30m").format(
                value=text
            )
        )
    return float(sum(float(n) * _UNIT_SECONDS[unit] for n, unit in _PART.findall(compact)))


@lru_cache(maxsize=16384)
def format_duration(seconds: float) -> str:
    """Format seconds compactly for people: ``6h12m``, ``45s``, ``2d3h4m5s``, ``-5m``.

    Cached: reports repeat the same durations (thresholds, gaps to the minute) many times.
    """
    if seconds < 0:
        return "-" + format_duration(-seconds)
    whole = round(seconds)
    if whole == 0:
        return "0s" if seconds == 0 else f"{seconds:.2f}s"
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    # Every unit is kept: near a threshold, "19h12m1s" and "19h12m" differ in the outcome.
    return (
        (f"{days}d" if days else "")
        + (f"{hours}h" if hours else "")
        + (f"{minutes}m" if minutes else "")
        + (f"{secs}s" if secs else "")
    )
