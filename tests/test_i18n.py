"""rulecore speaks English and Simplified Chinese: every message has its translation, the
compiled catalog matches its source, and the language is chosen as the docs say."""

from __future__ import annotations

import io
import json
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
    assert len(extracted) > 500, "the extraction found next to nothing: is babel.cfg right?"
    def translated(message: str) -> bool:
        entry = catalog.get(message)
        if entry is None or entry.fuzzy:
            return False
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        return all(strings)

    missing = sorted(message for message in extracted if not translated(message))
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


# ---------------------------------------------------------------------------------------------
# rulecore in Chinese, end to end
# ---------------------------------------------------------------------------------------------

RECORDS = ROOT / "examples" / "records"
STANDARDS = ROOT / "standards"


def _audit(*arguments: str, lang: str | None = None, env: dict[str, str] | None = None) -> str:
    chosen = ["--lang", lang] if lang else []
    result = CliRunner().invoke(
        cli.main,
        [*chosen, "audit", str(RECORDS), "-s", str(STANDARDS), "--fail-on", "never", *arguments],
        env=env,
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_the_scorecard_speaks_chinese_with_lang_zh() -> None:
    output = _audit(lang="zh")
    for words in ("rulecore 审核：读取 ", "各维度达标率", "容忍区内", "时限", "预见性"):
        assert words in output
    for english in ("Compliance by", "records read", "dimension", "First failures"):
        assert english not in output
    # Standard ids keep their English words; dimension rows do not.
    assert not re.search(r"│ (timeliness|flow|adaptability|anticipation)\s+│", output)


def test_rulecore_lang_chooses_chinese_and_lang_en_overrides_it() -> None:
    assert "各维度达标率" in _audit(env={"RULECORE_LANG": "zh_CN"})
    assert "Compliance by dimension" in _audit(lang="en", env={"RULECORE_LANG": "zh"})


def test_workers_speak_the_language_of_the_audit(tmp_path: Path) -> None:
    outputs = {}
    for jobs in ("1", "2"):
        path = tmp_path / f"jobs-{jobs}.jsonl"
        _audit("--jobs", jobs, "--format", "jsonl", "-o", str(path), lang="zh")
        outputs[jobs] = path.read_text(encoding="utf-8")
    assert outputs["1"] == outputs["2"]
    messages = [json.loads(line).get("message", "") for line in outputs["2"].splitlines()]
    assert any("测量值" in message for message in messages)
    assert not any(message.startswith("measured ") for message in messages)


def test_a_validate_error_is_located_and_in_chinese(tmp_path: Path) -> None:
    standard = tmp_path / "bad.yaml"
    standard.write_text(
        "id: bad\nversion: 1\ntitle: Bad\ndimension: flow\nrules:\n"
        "  - id: r\n    check: elapsed\n    tresholds: {max: 1h}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli.main, ["--lang", "zh", "validate", str(standard)])
    assert result.exit_code == 2
    located = f"错误：{standard}:8:5: 未知的键 'tresholds'；你是想写 'thresholds' 吗？"
    assert located in result.output


def test_a_message_given_only_in_chinese_keeps_the_english_default(tmp_path: Path) -> None:
    from rulecore import Engine

    (tmp_path / "s.yaml").write_text(
        "id: s\nversion: 1\ntitle: {en: First reply, zh: 首次答复}\ndimension: timeliness\n"
        "rules:\n  - id: r\n    check: elapsed\n"
        "    params: {from: {type: opened}, to: {type: message, actor: agent}}\n"
        "    thresholds: {desired: 1m, adequate: 3m}\n"
        "    message: {zh: '首次答复用时 {measured}'}\n",
        encoding="utf-8",
    )
    record = {
        "id": "T-1",
        "events": [
            {"at": "2026-03-02T09:00:00+00:00", "type": "opened", "actor": "customer"},
            {"at": "2026-03-02T09:02:00+00:00", "type": "message", "actor": "agent"},
        ],
    }
    from rulecore import record_from_mapping

    english = Engine.from_paths([tmp_path])
    assert english.standards[0].title == "First reply"
    assert [f.message for f in english.evaluate(record_from_mapping(record))] == [
        "measured 2m; desired ≤ 1m, adequate ≤ 3m"
    ]
    set_language("zh")
    chinese = Engine.from_paths([tmp_path])
    assert chinese.standards[0].title == "首次答复"
    assert [f.message for f in chinese.evaluate(record_from_mapping(record))] == ["首次答复用时 2m"]


def test_the_html_report_is_in_chinese(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    _audit("--report", f"html:{page}", lang="zh")
    html = page.read_text(encoding="utf-8")
    assert '<html lang="zh-Hans">' in html
    for words in ("标准的达成情况", "各维度达标率", "按规则", "在工作时间内解决", "不通过"):
        assert words in html
    body = html.split("<body>")[1].split('<script id="rulecore-data"')[0]
    for english in ("How well", "By dimension", "Compliance", "records read", "Message and"):
        assert english not in body


def test_the_agreement_table_speaks_chinese_with_lang_zh(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    _audit("--all-outcomes", "--format", "json", "--output", str(report))
    reviewed = ROOT / "examples" / "agreement" / "reviewed.csv"

    result = CliRunner().invoke(cli.main, ["--lang", "zh", "agree", str(reviewed), str(report)])

    assert result.exit_code == 0, result.output
    headers = ("比较数", "一致率", "95% 区间", "一致强度")
    for words in (*headers, "高度", "全部", "审核 不通过，复核 警告"):
        assert words in result.stdout, words
    assert "备注：greeted, but not by name" in result.stdout
    for english in ("compared", "strength", "substantial", "audit fail", "notes:"):
        assert english not in result.stdout, english
