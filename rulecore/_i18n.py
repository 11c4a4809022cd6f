"""The language rulecore speaks to people: English in the source, others from gettext catalogs.

Every user-facing text goes through :func:`_` (or :func:`ngettext`), with named ``{placeholders}``
filled by ``.format()`` after translation, never an f-string, so that a catalog can move the
words around them::

    from ._i18n import _
    raise UsageFailure(_("cannot read {path}: {why}").format(path=path, why=why))

A text needed before the language is known (a column name in a module-level tuple) is marked
with :func:`N_`, which only lets the catalog tools find it, and translated with :func:`_` where
it is shown.

JSON field names and outcome values are an interface and are never translated.  The catalogs
are managed with Babel (see docs/translating.md); at run time only the standard library's
gettext reads the compiled ``.mo`` files.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable, Mapping
from pathlib import Path

__all__ = [
    "LANGUAGES",
    "N_",
    "_",
    "choose_language",
    "dimension_label",
    "language",
    "localized",
    "ngettext",
    "outcome_label",
    "set_language",
]

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "rulecore"
LANGUAGES = ("en", "zh")
#: Environment variables that choose the language, strongest first, after ``--lang``.
LANGUAGE_VARIABLES = ("RULECORE_LANG", "LC_ALL", "LC_MESSAGES", "LANG")


class _Speaking:
    """What this process speaks: the language, and its catalog's lookups (bound once, since
    a finding's message may look one up per record)."""

    lang = "en"
    lookup: Callable[[str], str] = gettext.NullTranslations().gettext
    plural_lookup: Callable[[str, str, int], str] = gettext.NullTranslations().ngettext


_speaking = _Speaking()


def set_language(lang: str) -> None:
    """Speak ``lang`` (one of :data:`LANGUAGES`) from now on, in this process."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; choose one of {', '.join(LANGUAGES)}")
    catalog: gettext.NullTranslations
    if lang == "en":
        catalog = gettext.NullTranslations()
    else:
        catalog = gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang], fallback=True)
    _speaking.lang = lang
    _speaking.lookup = catalog.gettext
    _speaking.plural_lookup = catalog.ngettext


def language() -> str:
    """The language this process speaks."""
    return _speaking.lang


def choose_language(option: str | None, environ: Mapping[str, str]) -> str:
    """The language to speak: ``option`` (``--lang``), else ``RULECORE_LANG``, else the locale.

    The locale is the first of ``LC_ALL``, ``LC_MESSAGES`` and ``LANG`` that is set, as POSIX
    reads it; one starting with ``zh`` (``zh_CN.UTF-8``, ``zh_TW``...) means Chinese, any other
    English.  ``RULECORE_LANG`` must name a language rulecore speaks (``zh_CN`` counts as
    ``zh``); anything else raises :class:`ValueError`.
    """
    if option:
        return _normalised(option, "--lang")
    wanted = environ.get("RULECORE_LANG", "").strip()
    if wanted:
        return _normalised(wanted, "RULECORE_LANG")
    for variable in LANGUAGE_VARIABLES[1:]:
        value = environ.get(variable, "").strip()
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def _normalised(value: str, source: str) -> str:
    lang = value.lower().replace("-", "_").split("_")[0].split(".")[0]
    if lang not in LANGUAGES:
        problem = _("{source}={value} is not a language rulecore speaks; choose one of {choices}")
        raise ValueError(problem.format(source=source, value=value, choices=", ".join(LANGUAGES)))
    return lang


def _(message: str) -> str:
    """``message`` in the current language."""
    return _speaking.lookup(message)


def N_(message: str) -> str:
    """``message`` unchanged: marks it for the catalog, to be translated where it is shown."""
    return message


def ngettext(singular: str, plural: str, count: int) -> str:
    """The singular or plural form of a message, for ``count``, in the current language."""
    return _speaking.plural_lookup(singular, plural, count)


def localized(text: str | Mapping[str, str] | None, *, fallback: bool = True) -> str:
    """A standard's text in the current language.

    A standard may write ``title``, ``description`` and ``message`` as a plain string (spoken
    in every language) or as ``{en: ..., zh: ...}``; a language it leaves out falls back to
    English, then (with ``fallback``) to the first one given.  A message falls back no further
    than English: ``message: {zh: ...}`` keeps rulecore's own message in English.
    """
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    for lang in (language(), "en"):
        if text.get(lang):
            return text[lang]
    return next((value for value in text.values() if value), "") if fallback else ""


#: Dimensions people read under their own name: the four of the design card, Martin's other
#: procedural three, and the personal side.  Another plugin's dimension is shown as it is named.
DIMENSIONS = (
    N_("timeliness"),
    N_("flow"),
    N_("adaptability"),
    N_("anticipation"),
    N_("communication"),
    N_("feedback"),
    N_("supervision"),
    N_("courtesy"),
)

#: Outcome values stay English in data; these are their labels in tables and reports.
OUTCOMES = {
    "pass": N_("pass"),
    "warn": N_("warn"),
    "fail": N_("fail"),
    "not_applicable": N_("not applicable"),
    "error": N_("error"),
    "waived": N_("waived"),
}


def dimension_label(name: str) -> str:
    """A dimension's name as people read it, in the current language."""
    return _(name) if name in DIMENSIONS else name


def outcome_label(outcome: str, *, upper: bool = False) -> str:
    """An outcome as a table shows it; ``upper`` for the English capitals of a findings list."""
    if language() == "en":
        return outcome.upper() if upper else outcome.replace("_", " ")
    return _(OUTCOMES[outcome]) if outcome in OUTCOMES else outcome


#: A check's unit and direction, as ``rulecore explain`` says them.
MEASURES = (N_("seconds"), N_("count"), N_("ratio"), N_("lower"), N_("higher"))

#: Evidence labels are identifiers in data (JSON, CSV); these are shown translated in reports.
EVIDENCE_LABELS = frozenset(
    (
        N_("as_of"),
        N_("awaiting_escalation"),
        N_("broken"),
        N_("came_back"),
        N_("chase"),
        N_("clock"),
        N_("contacts"),
        N_("counted"),
        N_("earlier_contact"),
        N_("escalation_late"),
        N_("escalation_offered"),
        N_("evidence failed"),
        N_("exception"),
        N_("first_contact"),
        N_("forbidden"),
        N_("from"),
        N_("granted"),
        N_("handoff"),
        N_("holiday"),
        N_("idle_from"),
        N_("idle_until"),
        N_("kept"),
        N_("level"),
        N_("longest_gap"),
        N_("missing"),
        N_("more"),
        N_("moved_down"),
        N_("no_escalation"),
        N_("off_channel"),
        N_("out_of_order"),
        N_("outside_hours"),
        N_("pause"),
        N_("paused"),
        N_("pending"),
        N_("preference_changed"),
        N_("preferred"),
        N_("reopen"),
        N_("reopened"),
        N_("reordered"),
        N_("repeated"),
        N_("resolved"),
        N_("return"),
        N_("skipped_level"),
        N_("started_above_first"),
        N_("step"),
        N_("still_open"),
        N_("timezone"),
        N_("to"),
        N_("unanswered"),
        N_("unknown_level"),
    )
)


def evidence_label(label: str) -> str:
    """An evidence label (or clock segment kind) as a report shows it, in the current language."""
    return _(label) if label in EVIDENCE_LABELS else label


#: The JSON Schema of a text a standard may give in one language or several (see ``localized``).
LOCALIZED_TEXT_SCHEMA = {
    "oneOf": [
        {"type": "string", "minLength": 1},
        {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": False,
            "properties": {lang: {"type": "string", "minLength": 1} for lang in LANGUAGES},
        },
    ]
}
