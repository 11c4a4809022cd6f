"""What a plugin needs to speak the audit's language (``docs/plugins.md``, *Translations*).

The first-party plugins word their notes, evidence and errors through these, and so may any
plugin: a text found in rulecore's catalog is translated, any other is left as written, so a
plugin that ships no catalog speaks English in every language.  Wrap the text, then fill its
named placeholders::

    from rulecore.i18n import _

    note = _("{count} handoffs").format(count=count)
"""

from __future__ import annotations

from ._i18n import (
    DIMENSIONS,
    LOCALIZED_TEXT_SCHEMA,
    N_,
    _,
    dimension_label,
    evidence_label,
    language,
    localized,
    ngettext,
    outcome_label,
)

__all__ = [
    "DIMENSIONS",
    "LOCALIZED_TEXT_SCHEMA",
    "N_",
    "_",
    "dimension_label",
    "evidence_label",
    "language",
    "localized",
    "ngettext",
    "outcome_label",
]
