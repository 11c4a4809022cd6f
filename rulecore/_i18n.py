"""The language rulecore speaks to people: English in the source, others from gettext catalogs.

Every user-facing text goes through :func:`_` (or :func:`ngettext`), with named ``{placeholders}``
filled by ``.format()`` after translation, never an f-string, so that a catalog can move the
words around them::

    from ._i18n import _
    raise UsageFailure(_("cannot read {path}: {why}").format(path=path, why=why))

JSON field names and outcome values are an interface and are never translated.
"""

from __future__ import annotations

import gettext
from pathlib import Path

__all__ = ["LANGUAGES", "_", "language", "ngettext", "set_language"]

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "rulecore"
LANGUAGES = ("en", "zh")

_state: dict[str, object] = {"lang": "en", "catalog": gettext.NullTranslations()}


def set_language(lang: str) -> None:
    """Speak ``lang`` (one of :data:`LANGUAGES`) from now on, in this process."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; choose one of {', '.join(LANGUAGES)}")
    catalog: gettext.NullTranslations
    if lang == "en":
        catalog = gettext.NullTranslations()
    else:
        catalog = gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang], fallback=True)
    _state["lang"] = lang
    _state["catalog"] = catalog


def language() -> str:
    """The language this process speaks."""
    return str(_state["lang"])


def _(message: str) -> str:
    """``message`` in the current language."""
    catalog = _state["catalog"]
    assert isinstance(catalog, gettext.NullTranslations)
    return catalog.gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The singular or plural form of a message, for ``count``, in the current language."""
    catalog = _state["catalog"]
    assert isinstance(catalog, gettext.NullTranslations)
    return catalog.ngettext(singular, plural, count)
