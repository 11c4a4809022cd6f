"""Small helpers the adaptability checks share: reading names and flags.

Owner changes (handoffs) are the core's :func:`rulecore.owner_changes`, the same reading of a
handoff as every other dimension makes.
"""

from __future__ import annotations

from typing import Any

#: Text that means "no" when a flag field arrives as a string from a CSV or form export.
_FALSE_WORDS = frozenset({"", "0", "false", "no", "n", "off", "none", "null"})


def normalised_name(value: Any) -> str | None:
    """A channel, key or reason as a comparable name: trimmed and case-folded; None if blank."""
    if value is None:
        return None
    text = str(value).strip().casefold()
    return text or None


def flag_set(value: Any) -> bool:
    """Whether a field value says "yes": true, a non-zero number or a non-negative word.

    Exports carry flags as booleans, numbers or words (``"true"``, ``"supervisor"``); a value
    such as ``"no"`` or ``0`` must not count as an offer made.
    """
    if value is None or value is False:
        return False
    if value is True:
        return True
    if isinstance(value, (int, float)):
        return value != 0
    return str(value).strip().casefold() not in _FALSE_WORDS
