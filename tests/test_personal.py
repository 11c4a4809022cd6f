"""The personal side read from transcripts: service_script, uses_customer_name,
complaint_handling and forbidden_phrases.

The annotated fixtures (``plugins/rulecore_personal/fixtures``, ``standards/personal-
transcripts.test.yaml``) prove the outcomes case by case; these tests hold the folding and its
offsets, the evidence quoted from the original text, the shipped phrase lists, the errors a bad
rule gets, and that the transcript standard places teams in Martin's four service types.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from rulecore_personal import CHECKS
from rulecore_personal._fold import TRADITIONAL_TO_SIMPLIFIED, fold, fold_phrase
from rulecore_personal._order import steps_in_order
from rulecore_personal._phrases import LANGUAGES, PHRASES_DIR

from rulecore import (
    Engine,
    Finding,
    Record,
    StandardsInvalid,
    collect,
    get_plugin_manager,
    plan_inputs,
    read_inputs,
    record_from_mapping,
)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "transcripts"


def engine_for(tmp_path: Path, rules: str) -> Engine:
    standard = tmp_path / "personal.yaml"
    standard.write_text(
        "id: personal\nversion: 1\ntitle: Personal\ndimension: courtesy\nside: personal\n"
        "rules:\n" + textwrap.indent(rules, "  "),
        encoding="utf-8",
    )
    return Engine.from_paths([standard])


def chat(*turns: tuple[str, str], **attributes: Any) -> Any:
    """A record whose events are messages ``(actor, text)``, a minute apart."""
    return record_from_mapping(
        {
            "id": "R-1",
            "attributes": attributes,
            "events": [
                {
                    "at": f"2026-05-11T09:{minute:02d}:00+08:00",
                    "type": "message",
                    "actor": actor,
                    "fields": {"text": text},
                }
                for minute, (actor, text) in enumerate(turns)
            ],
        }
    )


def only_finding(engine: Engine, record: Any) -> Finding:
    (finding,) = engine.evaluate(record)
    return finding


def evidence_of(finding: Finding) -> list[tuple[str, int | None, str]]:
    return [(piece.label, piece.event_index, piece.detail) for piece in finding.evidence]


# ---------------------------------------------------------------------------------------------
# folding keeps the way back to the original
# ---------------------------------------------------------------------------------------------


def test_full_width_letters_and_punctuation_fold_to_half_width_lower_case() -> None:
    folded = fold("ＨＥＬＬＯ，Ｗｏｒｌｄ！")

    assert folded.text == "hello,world!"
    assert folded.original_span(0, 5) == (0, 5)


def test_a_letter_that_folds_to_two_maps_back_to_the_one_it_came_from() -> None:
    text = "Straße, Herr Groß"
    folded = fold(text)
    start = folded.text.index("gross")

    assert folded.text == "strasse, herr gross"
    begin, end = folded.original_span(start, start + len("gross"))
    assert text[begin:end] == "Groß"


def test_a_decomposed_accent_composes_as_the_phrase_is_written() -> None:
    folded = fold("Cafe\u0301 ok")

    assert folded.text == "café ok"
    assert folded.original_span(0, 4) == (0, 5)


def test_traditional_characters_in_the_table_fold_to_simplified() -> None:
    assert fold("謝謝您，再見！請問還有什麼問題嗎？").text == "谢谢您,再见!请问还有什么问题吗?"
    # Curly quotes read as straight ones.
    assert fold("that’s").text == "that's"


def test_the_table_maps_each_traditional_character_to_one_that_folds_to_itself() -> None:
    for traditional, simplified in TRADITIONAL_TO_SIMPLIFIED.items():
        assert fold(chr(traditional)).text == chr(simplified)
        assert fold(chr(simplified)).text == chr(simplified)


def test_ascii_and_already_folded_text_keep_their_offsets_without_a_table() -> None:
    assert fold("Hello there").origin is None
    assert fold("您好，欢迎咨询").origin is None


# ---------------------------------------------------------------------------------------------
# the shipped phrase lists
# ---------------------------------------------------------------------------------------------


def shipped(language: str) -> dict[str, list[str]]:
    data: dict[str, list[str]] = yaml.safe_load(
        (PHRASES_DIR / f"{language}.yaml").read_text(encoding="utf-8")
    )
    return data


def lists_read_by_checks() -> set[str]:
    return {
        name
        for check in CHECKS
        for name in check.params_schema["properties"]["phrases"]["properties"]["extend"][
            "propertyNames"
        ]["enum"]
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_language_ships_exactly_the_lists_the_checks_read(language: str) -> None:
    assert set(shipped(language)) == lists_read_by_checks()


@pytest.mark.parametrize("language", LANGUAGES)
def test_shipped_phrases_are_written_as_they_fold(language: str) -> None:
    # A phrase not written in its folded form could never be found.
    unfolded = [
        phrase
        for phrases in shipped(language).values()
        for phrase in phrases or ()
        if fold_phrase(phrase) != " ".join(phrase.split())
    ]
    assert unfolded == []


def test_every_traditional_form_of_a_shipped_chinese_phrase_is_still_found(
    tmp_path: Path,
) -> None:
    simplified_to_traditional = {s: t for t, s in TRADITIONAL_TO_SIMPLIFIED.items() if s > 127}
    engine = engine_for(
        tmp_path, "- id: f\n  check: forbidden_phrases\n  params: {languages: [zh]}\n"
    )
    for phrase in shipped("zh")["forbidden"]:
        traditional = phrase.translate(simplified_to_traditional)
        finding = only_finding(engine, chat(("agent", f"嗯，{traditional}。")))
        assert finding.measured == 1.0, traditional


# ---------------------------------------------------------------------------------------------
# evidence quotes the original words, where they are
# ---------------------------------------------------------------------------------------------


def test_forbidden_phrases_are_quoted_from_the_original_with_their_offsets(
    tmp_path: Path,
) -> None:
    engine = engine_for(tmp_path, "- id: f\n  check: forbidden_phrases\n")
    record = chat(
        ("customer", "我要投訴！"),
        ("agent", "ＯＫ，這個不歸我管。"),
        ("agent", "Honestly, THAT’S NOT MY JOB."),
    )

    finding = only_finding(engine, record)

    assert finding.outcome == "fail"
    assert finding.measured == 2.0
    assert evidence_of(finding) == [
        ("forbidden", 1, 'forbidden phrase: "不歸我管" at characters 5-9 of agent message'),
        (
            "forbidden",
            2,
            'forbidden phrase: "THAT’S NOT MY JOB" at characters 10-27 of agent message',
        ),
    ]


def test_the_service_script_names_each_step_with_its_words(tmp_path: Path) -> None:
    engine = engine_for(tmp_path, "- id: s\n  check: service_script\n")
    record = chat(
        ("agent", "您好！請問有什麼可以幫您？"),
        ("agent", "已经为您改好了。"),
        ("agent", "Goodbye!"),
        ("agent", "还有其他问题吗？"),
    )

    finding = only_finding(engine, record)

    assert finding.measured == 1.0
    assert finding.outcome == "warn"
    assert evidence_of(finding) == [
        ("step", 0, 'greeting: "您好" at characters 0-2 of agent message'),
        ("step", 0, 'needs: "請問有什麼" at characters 3-8 of agent message'),
        ("step", 1, 'serving: "已经为您改好了。" at characters 0-8 of agent message'),
        ("out_of_order", 3, 'satisfaction: "还有其他问题" at characters 0-6 of agent message'),
        ("step", 2, 'farewell: "Goodbye" at characters 0-7 of agent message'),
    ]
    assert "out of order: satisfaction" in finding.message


def test_the_step_note_is_worded_in_the_language_spoken(tmp_path: Path) -> None:
    from rulecore._i18n import set_language

    record = chat(("agent", "已经为您改好了。"), ("agent", "还有其他问题吗？"))
    set_language("zh")
    try:
        script = engine_for(tmp_path, "- id: s\n  check: service_script\n")
        note = only_finding(script, record).message
        complaint = chat(("customer", "这服务太差了！"), ("agent", "好的。"))
        handling = engine_for(
            tmp_path, "- id: c\n  check: complaint_handling\n  params: {steps: [listen]}\n"
        )
        handled = only_finding(handling, complaint).message
    finally:
        set_language("en")

    assert "缺失：greeting, needs" in note, note
    assert "缺失：" in handled, handled
    assert ": " not in handled, handled


def test_a_step_said_too_early_costs_one_not_every_step_after_it() -> None:
    occurrences = [[((5, 0), "late greeting")], [((1, 0), "needs")], [((2, 0), "serving")]]

    kept = steps_in_order(occurrences)

    assert sorted(kept) == [1, 2]


def test_two_steps_in_one_message_are_ordered_by_where_they_are_said() -> None:
    occurrences = [[((1, 10), "b")], [((1, 2), "a"), ((1, 20), "c")]]

    assert steps_in_order(occurrences) == {0: ((1, 10), "b"), 1: ((1, 20), "c")}


def test_the_name_is_found_in_its_forms_and_quoted(tmp_path: Path) -> None:
    engine = engine_for(tmp_path, "- id: n\n  check: uses_customer_name\n")
    record = chat(
        ("agent", "Good morning, Mr.Carter!"),
        ("agent", "Thanks, JOHN."),
        ("agent", "Carterton is our warehouse."),
        customer_name="John Carter",
    )

    finding = only_finding(engine, record)

    assert finding.measured == 2.0
    assert evidence_of(finding) == [
        ("name", 0, 'name: "Mr.Carter" at characters 14-23 of agent message'),
        ("name", 1, 'name: "JOHN" at characters 8-12 of agent message'),
    ]


def test_the_complaint_and_the_apology_are_both_quoted(tmp_path: Path) -> None:
    engine = engine_for(
        tmp_path, "- id: c\n  check: complaint_handling\n  params: {steps: [listen]}\n"
    )
    record = chat(
        ("customer", "这服务太差了！"),
        ("agent", "非常抱歉，您慢慢说。"),
    )

    finding = only_finding(engine, record)

    assert finding.measured == 0.0
    assert evidence_of(finding) == [
        ("complaint", 0, 'complaint: "太差" at characters 3-5 of customer message'),
        ("apology", 1, 'apology: "抱歉" at characters 2-4 of agent message'),
        ("step", 1, 'listen: "您慢慢说" at characters 5-9 of agent message'),
    ]


def test_messages_are_read_from_the_field_and_actors_a_rule_names(tmp_path: Path) -> None:
    engine = engine_for(
        tmp_path,
        "- id: f\n  check: forbidden_phrases\n"
        "  params: {text_field: body, agent: {type: chat, actor: staff}}\n",
    )
    record = record_from_mapping(
        {
            "id": "R-2",
            "events": [
                {
                    "at": "2026-05-11T09:00:00Z",
                    "type": "chat",
                    "actor": "staff",
                    "fields": {"body": "Calm down, please."},
                },
            ],
        }
    )

    assert only_finding(engine, record).measured == 1.0


# ---------------------------------------------------------------------------------------------
# a standard's changes to the lists are validated
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ("{phrases: {extend: {farewel: [回见]}}}", "farewel"),
        ("{phrases: {add: {farewell: [回见]}}}", "add"),
        ("{phrases: {extend: {farewell: ['']}}}", "should be non-empty"),
        ("{languages: [fr]}", "'fr' is not allowed here; use one of 'zh', 'en'"),
        ("{steps: [greeting, greeting]}", "non-unique"),
        (
            "{phrases: {extend: {farewell: [a]}, replace: {farewell: [b]}}}",
            "farewell is both extended and replaced",
        ),
        ("{phrases: {extend: {farewell: ['   ']}}}", "a phrase in farewell is blank"),
    ],
)
def test_bad_phrase_parameters_are_refused(tmp_path: Path, params: str, words: str) -> None:
    with pytest.raises(StandardsInvalid, match=words):
        engine_for(tmp_path, f"- id: s\n  check: service_script\n  params: {params}\n")


def test_complaint_handling_with_nothing_to_look_for_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StandardsInvalid, match="nothing to look for"):
        engine_for(
            tmp_path,
            "- id: c\n  check: complaint_handling\n  params: {acknowledge: false, steps: []}\n",
        )


def test_replace_gives_the_whole_list(tmp_path: Path) -> None:
    engine = engine_for(
        tmp_path,
        "- id: f\n  check: forbidden_phrases\n  params: {phrases: {replace: {forbidden: []}}}\n",
    )

    assert only_finding(engine, chat(("agent", "不归我管"))).outcome == "pass"


# ---------------------------------------------------------------------------------------------
# odd records never make a check raise
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [None, 3, "", "   ", ["a"], {"text": "hi"}, "\u0301", "ﬀ" * 50])
def test_odd_text_is_no_error(tmp_path: Path, text: Any) -> None:
    engine = engine_for(
        tmp_path,
        "".join(f"- id: {check.name}\n  check: {check.name}\n" for check in CHECKS),
    )
    record = record_from_mapping(
        {
            "id": "odd",
            "attributes": {"customer_name": "ﬀ"},
            "events": [
                {
                    "at": "2026-05-11T09:00:00Z",
                    "type": "message",
                    "actor": actor,
                    "fields": {"text": text},
                }
                for actor in ("customer", "agent")
            ],
        }
    )

    outcomes = {finding.rule: finding.outcome for finding in engine.evaluate(record)}

    assert "error" not in outcomes.values(), outcomes


# ---------------------------------------------------------------------------------------------
# registration, and Martin's four service types from what teams wrote
# ---------------------------------------------------------------------------------------------


def test_the_personal_plugin_registers_its_checks_through_the_entry_point() -> None:
    registry = collect(get_plugin_manager())

    assert {name: registry.checks[name][0] for name in ("service_script", "forbidden_phrases")} == {
        "service_script": "personal",
        "forbidden_phrases": "personal",
    }


def audit_examples(*standards: str) -> Any:
    engine = Engine.from_paths([ROOT / "standards" / name for name in standards])
    planned = plan_inputs([EXAMPLES / "chats.jsonl"], engine.registry)
    return engine.audit(read_inputs(planned), group_by=("team",))


def test_the_transcript_standard_places_each_team_in_a_service_type() -> None:
    summary = audit_examples("timeliness-first-reply.yaml", "personal-transcripts.yaml")

    placed = {entry["group"]: entry["type"] for entry in summary.service_types if entry["by"]}
    assert placed == {
        "concierge": "quality",  # answered fast, and warmly
        "express": "factory",  # answered fast, coldly
        "lounge": "friendly zoo",  # warm, but slow
        "backlog": "freezer",  # slow and cold
    }


def test_without_the_transcript_standard_no_team_is_placed() -> None:
    summary = audit_examples("timeliness-first-reply.yaml")

    assert summary.service_types == ()


def test_the_examples_are_bilingual_and_calls_without_transcripts_are_not_judged() -> None:
    records = [
        json.loads(line) for line in (EXAMPLES / "chats.jsonl").read_text("utf-8").splitlines()
    ]
    languages = {record["attributes"].get("language") for record in records}
    engine = Engine.from_paths([ROOT / "standards" / "personal-transcripts.yaml"])
    call = next(record for record in records if record["attributes"]["channel"] == "phone")

    outcomes = {finding.outcome for finding in engine.evaluate(record_from_mapping(call))}

    assert {"zh", "en"} <= languages
    assert 20 <= len(records) <= 40
    assert outcomes == {"not_applicable"}


@pytest.mark.parametrize(
    ("text", "used"),
    [
        ("Dear Ms Souza,", "Ms Souza"),
        ("Thanks, MS.  SOUZA!", "MS.  SOUZA"),
        ("Souza先生您好", "Souza先生"),
        ("Ana\nSouza, hello", "Ana\\nSouza"),  # evidence quotes as JSON does
        ("Hello Mssouza", None),
        ("Hello Ms Souzas", None),
        ("Hello Dona Ana", "Ana"),
    ],
)
def test_each_form_of_a_latin_name(tmp_path: Path, text: str, used: str | None) -> None:
    engine = engine_for(tmp_path, "- id: n\n  check: uses_customer_name\n")

    finding = only_finding(engine, chat(("agent", text), customer_name="Ana Souza"))

    quoted = [piece.detail.split('"')[1] for piece in finding.evidence if piece.label == "name"]
    assert quoted == ([used] if used else [])


def test_a_chat_export_read_through_a_mapping_is_judged_as_its_records_are() -> None:
    engine = Engine.from_paths([ROOT / "standards" / "personal-transcripts.yaml"])
    mapped = plan_inputs([EXAMPLES / "chat-export.csv"], engine.registry, "mapping")
    options = {"mapping": EXAMPLES / "chat-export.mapping.yaml"}
    by_mapping = {
        (finding.record, finding.rule): finding.outcome
        for item in read_inputs(mapped, options)
        if isinstance(item, Record)
        for finding in engine.evaluate(item)
    }
    records = {
        json.loads(line)["id"]: record_from_mapping(json.loads(line))
        for line in (EXAMPLES / "chats.jsonl").read_text("utf-8").splitlines()
    }
    as_records = {
        (finding.record, finding.rule): finding.outcome
        for record_id in {record for record, _ in by_mapping}
        for finding in engine.evaluate(records[record_id])
    }

    assert len(by_mapping) == 5 * 5
    assert "fail" in by_mapping.values()
    assert "pass" in by_mapping.values()
    assert by_mapping == as_records


def test_a_passing_step_finding_does_not_end_in_empty_brackets() -> None:
    engine = Engine.from_paths(
        [
            ROOT / "standards" / name
            for name in ("personal-courtesy.yaml", "personal-transcripts.yaml", "flow-process.yaml")
        ]
    )
    records = [
        record_from_mapping(json.loads(line))
        for path in (EXAMPLES / "chats.jsonl", ROOT / "examples" / "records" / "service-desk.jsonl")
        for line in path.read_text(encoding="utf-8").splitlines()[:40]
    ]

    messages = {
        (finding.rule, finding.message)
        for record in records
        for finding in engine.evaluate(record)
        if finding.outcome == "pass" and finding.measured == 0
    }

    rules = {rule for rule, _message in messages}
    assert {"warm-close", "five-steps", "process-steps"} <= rules
    assert not [message for _rule, message in messages if "()" in message]
    assert (
        "warm-close",
        "closing courtesies missing or out of order: 0 (nothing missing or out of order)",
    ) in messages
