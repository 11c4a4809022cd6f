"""What the endpoints read from a request besides its body: its query, and the service."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from datetime import datetime

from starlette.requests import Request

from rulecore._i18n import _
from rulecore._model import PLAUSIBLE_RANGE, BadMoment, parse_moment

from ._http import Problem
from ._service import Service


def service_of(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def parse_as_of(value: str | None) -> datetime | None:
    """``?as_of=``: judge open cases as of this moment, as ``rulecore audit --as-of`` does."""
    if value is None:
        return None
    try:
        return parse_moment(value)
    except BadMoment as error:
        if error.reason == "not_iso":
            message = _("as_of {value!r} is not an ISO 8601 timestamp")
        elif error.reason == "no_offset":
            message = _("as_of {value!r} needs a UTC offset, such as +00:00 or Z")
        else:
            message = _("as_of {value!r} is outside the dates rulecore audits, {range}")
        raise _bad_query(message.format(value=value, range=PLAUSIBLE_RANGE)) from None


_TRUE = frozenset(("1", "true", "yes", "on"))
_FALSE = frozenset(("", "0", "false", "no", "off"))


def parse_flag(query: Mapping[str, str], name: str) -> bool:
    value = query.get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise _bad_query(
        _("{name} must be true or false, not {value!r}").format(name=name, value=value)
    )


def refuse_unknown_query(names: Iterable[str], known: tuple[str, ...]) -> None:
    """A query parameter the endpoint does not read is refused, not ignored.

    ``?as-of=`` (the CLI's spelling) or ``?all_outcome=`` would otherwise be dropped without a
    word, and the answer be an audit as of now, or without its passes.
    """
    for name in names:
        if name in known:
            continue
        close = difflib.get_close_matches(name.replace("-", "_").lower(), known, n=1)
        hint = _("; did you mean {name!r}?").format(name=close[0]) if close else ""
        raise _bad_query(
            _("unknown query parameter {name!r}{hint}; this endpoint reads {known}").format(
                name=name, hint=hint, known=", ".join(known)
            )
        )


def _bad_query(message: str) -> Problem:
    return Problem(400, "bad_query", message)


def safe_file_name(given: str, default: str) -> str:
    """A caller's file name, reduced to its last part and to letters, digits, ``.-_``."""
    name = given.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(char if char.isalnum() or char in "._-" else "_" for char in name)
    return default if name.strip("._") == "" else name[:100]
