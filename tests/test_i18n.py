"""rulecore speaks English and Simplified Chinese: every message has its translation, the
compiled catalog matches its source, and the language is chosen as the docs say."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from rulecore import cli
from rulecore._i18n import LOCALE_DIR, _, choose_language, localized, set_language

ROOT = Path(__file__).resolve().parent.parent
PO = LOCALE_DIR / "zh" / "LC_MESSAGES" / "rulecore.po"
MO = PO.with_suffix(".mo")
HAN = re.compile(r"[\u4e00-\u9fff]")

babel = pytest.importorskip("babel", reason="Babel (the dev extra) extracts the catalogs")


@pytest.fixture(autouse=True)
def _english_afterwards() -> Iterator[None]:
    yield
    set_language("en")  # the language is per process: leave it as the other tests expect


def _extracted() -> set[str]:
    """Every message the source marks for translation, found as `pybabel extract` finds it."""
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    with (ROOT / "babel.cfg").open(encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    found: set[str] = set()
    for directory in ("rulecore", "plugins"):
        # babel.cfg names paths from the root; extract_from_dir matches them from `directory`.
        prefixed = [(pattern.removeprefix(f"{directory}/"), how) for pattern, how in method_map]
        for _name, _line, message, _comments, _context in extract_from_dir(
            str(ROOT / directory), prefixed, options_map
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def _catalog():  # type: ignore[no-untyped-def]
    from babel.messages.pofile import read_po

    with PO.open("rb") as source:
        return read_po(source, locale="zh")


def test_every_message_in_the_source_has_a_chinese_translation() -> None:
    catalog = _catalog()
    extracted = _extracted()
    assert len(extracted) > 30, "the extraction found next to nothing: is babel.cfg right?"
    missing = sorted(
        message
        for message in extracted
        if message not in catalog
        or catalog[message].fuzzy
        or not all(catalog[message].string if isinstance(catalog[message].string, tuple)
                   else (catalog[message].string,))
    )
    assert not missing, (
        f"{len(missing)} messages lack a zh translation (docs/translating.md says how to add "
        f"them):\n" + "\n".join(missing[:40])
    )


def test_the_committed_mo_is_compiled_from_the_committed_po() -> None:
    from babel.messages.mofile import write_mo

    compiled = io.BytesIO()
    write_mo(compiled, _catalog())
    assert MO.read_bytes() == compiled.getvalue(), (
        "rulecore.mo is stale: run pybabel compile (docs/translating.md)"
    )


def test_placeholders_survive_translation() -> None:
    placeholder = re.compile(r"\{(\w*)[^{}]*\}")
    for message in _catalog():
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(placeholder.findall(ids[-1]))
        for string in strings:
            assert set(placeholder.findall(string)) == wanted, (message.id, string)


@pytest.mark.parametrize(
    ("option", "environ", "expected"),
    [
        ("zh", {"RULECORE_LANG": "en", "LANG": "en_US.UTF-8"}, "zh"),
        (None, {"RULECORE_LANG": "zh_CN", "LANG": "en_US.UTF-8"}, "zh"),
        (None, {"RULECORE_LANG": "en", "LC_ALL": "zh_CN.UTF-8"}, "en"),
        (None, {"LC_ALL": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}, "zh"),
        (None, {"LC_ALL": "C", "LC_MESSAGES": "zh_CN.UTF-8"}, "en"),
        (None, {"LC_MESSAGES": "zh_TW.UTF-8", "LANG": "en_US.UTF-8"}, "zh"),
        (None, {"LANG": "zh_CN.UTF-8"}, "zh"),
        (None, {"LANG": "de_DE.UTF-8"}, "en"),
        (None, {}, "en"),
    ],
)
def test_the_language_is_chosen_by_option_then_variable_then_locale(
    option: str | None, environ: dict[str, str], expected: str
) -> None:
    assert choose_language(option, environ) == expected


def test_an_unknown_rulecore_lang_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli.main, ["plugins"], env={"RULECORE_LANG": "fr"})
    assert result.exit_code == 2
    assert "RULECORE_LANG=fr" in result.output


def test_a_standard_text_in_both_languages_follows_the_language() -> None:
    text = {"en": "First reply", "zh": "首次回复"}
    assert localized(text) == "First reply"
    set_language("zh")
    assert localized(text) == "首次回复"
    assert localized({"en": "only English"}) == "only English"
    assert localized("plain") == "plain"
    assert _("Compliance by dimension") != "Compliance by dimension"
