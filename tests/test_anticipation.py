"""The anticipation checks: follow_up, promises_kept, repeat_contact, first_contact_resolution.

The annotated fixtures (``plugins/rulecore_anticipation/fixtures``) prove each check's outcomes
case by case; these tests hold what fixtures cannot show: the evidence a finding carries, the
cross-record check against a brute-force reference on shuffled input, its memory bound on a
long stream, and its agreement on real help-desk records.
"""

from __future__ import annotations

import random
import textwrap
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from rulecore_anticipation import CHECKS
from rulecore_anticipation._repeat_contact import EVIDENCE_LIMIT, RepeatContactAccumulator

from rulecore import (
    CompileContext,
    CrossRecordCheck,
    Engine,
    EvaluationContext,
    Event,
    Finding,
    Measurement,
    Record,
    Registry,
    StandardsInvalid,
    collect,
    get_plugin_manager,
    record_from_mapping,
)
from rulecore._fixtures import discover_fixtures, run_fixture

ROOT = Path(__file__).resolve().parent.parent
PLUGIN_FIXTURES = ROOT / "plugins" / "rulecore_anticipation" / "fixtures"
FIXTURES = [
    *discover_fixtures([PLUGIN_FIXTURES]),
    ROOT / "standards" / "anticipation-promises.test.yaml",
]
UTC = timezone.utc
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
DAY = 86400.0


@pytest.fixture(scope="module")
def registry() -> Registry:
    return collect(get_plugin_manager())


def engine_for(tmp_path: Path, rules: str, name: str = "s") -> Engine:
    """An engine for one standard of the anticipation dimension holding ``rules``."""
    text = f"id: {name}\nversion: 1\ntitle: t\ndimension: anticipation\nrules:\n"
    (tmp_path / f"{name}.yaml").write_text(text + textwrap.indent(textwrap.dedent(rules), "  "))
    return Engine.from_paths([tmp_path])


def audit(engine: Engine, records: Iterable[Record]) -> list[Finding]:
    found: list[Finding] = []

    class Collect:
        def finding(self, finding: Finding) -> None:
            found.append(finding)

        def rejection(self, rejection: object) -> None:
            pass

        def close(self, summary: object) -> None:
            pass

    engine.audit(records, Collect(), all_outcomes=True)
    return found


def record(
    record_id: str, *events: tuple[str, str, str, dict[str, Any]], **attributes: Any
) -> Record:
    return record_from_mapping(
        {
            "id": record_id,
            "attributes": attributes,
            "events": [
                {"at": at, "type": kind, "actor": actor, "fields": fields}
                for at, kind, actor, fields in events
            ],
        }
    )


# ---------------------------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------------------------


# Every fixture is run by tests/test_fixtures.py; these tests check what fixtures cannot.


def test_every_check_has_fixtures_that_pass_fail_and_do_not_apply(registry: Registry) -> None:
    seen: dict[str, set[str]] = {check.name: set() for check in CHECKS}
    for fixture in FIXTURES:
        standard_checks = _rule_checks(fixture, registry)
        for result in run_fixture(fixture, registry):
            for rule, outcome in result.actual.items():
                seen[standard_checks[rule]].add(outcome)

    lacking = {name: {"pass", "fail", "not_applicable"} - got for name, got in seen.items()}
    assert not any(lacking.values()), lacking


def _rule_checks(fixture: Path, registry: Registry) -> dict[str, str]:
    from rulecore._fixtures import _standard_document
    from rulecore._yaml import load_yaml_file

    document = _standard_document(fixture, load_yaml_file(fixture))
    return {rule["id"]: rule["check"] for rule in document.data["rules"]}


# ---------------------------------------------------------------------------------------------
# promises_kept
# ---------------------------------------------------------------------------------------------


def test_a_promise_finding_shows_each_promise_its_due_time_and_what_kept_or_broke_it(
    tmp_path: Path,
) -> None:
    engine = engine_for(tmp_path, "- id: promises\n  check: promises_kept\n")
    case = record(
        "P-1",
        ("2026-04-07T09:00:00+02:00", "promise", "agent", {"due": "2026-04-07T12:00:00+02:00"}),
        ("2026-04-07T10:00:00+02:00", "message", "agent", {}),
        ("2026-04-07T10:30:00+02:00", "promise", "agent", {"within": "1h"}),
        ("2026-04-07T12:15:00+02:00", "callback", "agent", {}),
    )

    (finding,) = audit(engine, [case])

    assert (finding.outcome, finding.measured) == ("fail", 1.0)
    kept, broken = finding.evidence
    assert (kept.label, kept.event_index, kept.until) == (
        "kept",
        0,
        datetime(2026, 4, 7, 12, 0, tzinfo=timezone(timedelta(hours=2))),
    )
    assert "message at event 1" in kept.detail
    assert (broken.label, broken.event_index) == ("broken", 2)
    assert broken.until == datetime(2026, 4, 7, 9, 30, tzinfo=UTC)
    assert "callback at event 3 came 45m after due" in broken.detail


def test_a_schedule_the_rule_names_must_exist(tmp_path: Path) -> None:
    with pytest.raises(StandardsInvalid, match="unknown schedule 'nine-to-five'"):
        engine_for(
            tmp_path,
            "- id: p\n  check: promises_kept\n  params: {schedule: nine-to-five}\n",
        )


def test_a_record_attribute_chooses_the_schedule_a_promise_is_due_on(tmp_path: Path) -> None:
    for name, hours in (("london", "09:00-17:00"), ("late", "12:00-20:00")):
        (tmp_path / f"{name}.yaml").write_text(
            f"kind: schedule\nname: {name}\ntimezone: UTC\nhours: {{mon-fri: '{hours}'}}\n"
        )
    engine = engine_for(
        tmp_path,
        """\
        - id: p
          check: promises_kept
          params:
            schedule_attribute: team
            schedules: {early: london, evening: late}
        """,
    )

    def promise(id: str, **attributes: str) -> Record:
        # Promised on Monday at 16:00Z within 2h, called back on Tuesday at 10:00Z.
        return record(
            id,
            ("2026-03-02T16:00:00Z", "promise", "agent", {"within": "2h"}),
            ("2026-03-03T10:00:00Z", "callback", "agent", {}),
            **attributes,
        )

    early, evening, unlisted = audit(
        engine, [promise("E", team="early"), promise("V", team="evening"), promise("U", team="x")]
    )

    # early: 1h on Monday to 17:00, 1h on Tuesday from 09:00 -> due 10:00, kept.
    assert (early.outcome, early.evidence[0].label) == ("pass", "kept")
    # evening: 16:00 + 2h -> due Monday 18:00, so Tuesday's call-back broke it.
    assert (evening.outcome, evening.evidence[0].label) == ("fail", "broken")
    assert unlisted.outcome == "not_applicable"
    assert "chooses no schedule" in unlisted.message


# ---------------------------------------------------------------------------------------------
# first_contact_resolution
# ---------------------------------------------------------------------------------------------


def test_an_fcr_finding_shows_the_first_contact_and_each_break(tmp_path: Path) -> None:
    engine = engine_for(
        tmp_path,
        "- id: fcr\n  check: first_contact_resolution\n"
        "  params: {breaks: [contact, reopen, handoff]}\n",
    )
    case = record(
        "F-1",
        ("2026-04-09T08:00:00+02:00", "assigned", "system", {"team": "billing"}),
        ("2026-04-09T08:20:00+02:00", "message", "agent", {}),
        ("2026-04-09T10:00:00+02:00", "assigned", "system", {"team": "accounts"}),
        ("2026-04-09T13:00:00+02:00", "chase", "customer", {}),
        ("2026-04-09T13:30:00+02:00", "resolved", "agent", {}),
        ("2026-04-10T09:30:00+02:00", "reopened", "customer", {}),
    )

    (finding,) = audit(engine, [case])

    assert finding.measured == 3.0
    assert [(piece.kind, piece.label, piece.event_index) for piece in finding.evidence] == [
        ("segment", "first_contact", None),
        ("event", "came_back", 3),
        ("event", "handoff", 2),
        ("event", "reopened", 5),
    ]
    segment = finding.evidence[0]
    assert (segment.at, segment.until) == (case.events[1].at, case.events[4].at)
    assert "came back" in finding.message
    assert "handed off" in finding.message
    assert "reopened" in finding.message


# ---------------------------------------------------------------------------------------------
# repeat_contact: a brute-force reference
# ---------------------------------------------------------------------------------------------


class Contact(NamedTuple):
    record_id: str
    customer: str
    category: str
    opened: float  # days after T0
    resolved: float | None


def as_record(contact: Contact) -> Record:
    events = [Event(at=T0 + timedelta(days=contact.opened), type="opened", actor="customer")]
    if contact.resolved is not None:
        events.append(
            Event(at=T0 + timedelta(days=contact.resolved), type="resolved", actor="agent")
        )
    return Record(
        id=contact.record_id,
        attributes={"customer": contact.customer, "category": contact.category},
        events=tuple(events),
    )


def reference(
    contacts: Sequence[Contact], window_days: float, since_resolved: bool, by_category: bool
) -> dict[str, list[str]]:
    """Each record's earlier contacts within the window, by comparing every pair."""
    found: dict[str, list[str]] = {}
    for contact in contacts:
        earlier = []
        for other in contacts:
            same = other.customer == contact.customer and (
                not by_category or other.category == contact.category
            )
            if not same or (other.opened, other.record_id) >= (contact.opened, contact.record_id):
                continue
            since = other.opened
            if since_resolved:
                since = max(
                    other.opened, other.resolved if other.resolved is not None else other.opened
                )
            if contact.opened - since <= window_days:
                earlier.append(other.record_id)
        found[contact.record_id] = sorted(earlier)
    return found


def random_contacts(seed: int, count: int, customers: int = 12) -> list[Contact]:
    rng = random.Random(seed)
    contacts = []
    for number in range(count):
        # Whole minutes, so that ties in opening time happen and the tie-break is exercised.
        opened = rng.randrange(0, 60 * 24 * 60) / (24 * 60)
        resolved = opened + rng.choice([0.0, 0.1, 1.5, 4.0]) if rng.random() < 0.8 else None
        contacts.append(
            Contact(
                f"R{number:04d}",
                f"C{rng.randrange(customers)}",
                rng.choice(["billing", "router"]),
                opened,
                resolved,
            )
        )
    return contacts


def new_accumulator(**params: Any) -> RepeatContactAccumulator:
    check = next(check for check in CHECKS if check.name == "repeat_contact")
    assert isinstance(check, CrossRecordCheck)
    accumulator = check.compile(params, CompileContext("s", "r"))()
    assert isinstance(accumulator, RepeatContactAccumulator)
    return accumulator


def earlier_ids(measurement: Measurement) -> list[str]:
    return sorted(
        piece.detail.split(" ", 1)[0]
        for piece in measurement.evidence
        if piece.label == "earlier_contact"
    )


def assert_matches(results: dict[str, Measurement], expected: dict[str, list[str]]) -> None:
    """Counts equal the reference's; so do the ids wherever the evidence names them all."""
    assert {rid: m.value for rid, m in results.items()} == {
        rid: float(len(ids)) for rid, ids in expected.items()
    }
    assert all(m.outcome is None for m in results.values())
    shown = {
        rid: earlier_ids(m) for rid, m in results.items() if len(expected[rid]) <= EVIDENCE_LIMIT
    }
    assert shown == {rid: ids for rid, ids in expected.items() if rid in shown}


def run(
    accumulator: RepeatContactAccumulator, contacts: Iterable[Contact]
) -> dict[str, Measurement]:
    context = EvaluationContext()
    results: dict[str, Measurement] = {}
    for contact in contacts:
        accumulator.add(as_record(contact), context)
        results.update(accumulator.drain())
    results.update(accumulator.results())
    return results


@pytest.mark.parametrize("since", ["opened", "resolved"])
@pytest.mark.parametrize("by_category", [False, True])
def test_repeat_contacts_match_a_pairwise_reference_whatever_the_input_order(
    since: str, by_category: bool
) -> None:
    contacts = random_contacts(seed=7, count=600)
    expected = reference(contacts, 3.0, since == "resolved", by_category)
    params: dict[str, Any] = {"window": "3d", "since": since, "measure": "earlier_contacts"}
    if by_category:
        params["category"] = "category"
    shuffled = random.Random(1).sample(contacts, len(contacts))

    results = run(new_accumulator(**params), shuffled)

    assert_matches(results, expected)
    assert sum(1 for ids in expected.values() if ids) > 100


@pytest.mark.parametrize("since", ["opened", "resolved"])
def test_time_ordered_input_with_no_lateness_gives_the_same_results(since: str) -> None:
    contacts = random_contacts(seed=11, count=600)
    expected = reference(contacts, 3.0, since == "resolved", by_category=False)
    ordered = sorted(contacts, key=lambda contact: (contact.opened, contact.record_id))

    repeats = run(new_accumulator(window="3d", since=since, max_lateness="0s"), ordered)
    counts = run(
        new_accumulator(window="3d", since=since, max_lateness="0s", measure="earlier_contacts"),
        ordered,
    )

    assert_matches(counts, expected)
    assert {rid: m.value for rid, m in repeats.items()} == {
        rid: float(bool(ids)) for rid, ids in expected.items()
    }


def test_input_out_of_order_within_max_lateness_gives_the_same_results() -> None:
    contacts = random_contacts(seed=13, count=600)
    expected = reference(contacts, 3.0, since_resolved=False, by_category=False)
    # Shuffle within half-day blocks, so no record arrives more than half a day late.
    rng = random.Random(5)
    blocks: dict[int, list[Contact]] = {}
    for contact in sorted(contacts, key=lambda c: c.opened):
        blocks.setdefault(int(contact.opened * 2), []).append(contact)
    arrival = [c for block in sorted(blocks) for c in rng.sample(blocks[block], len(blocks[block]))]
    assert arrival != sorted(arrival, key=lambda c: (c.opened, c.record_id))

    results = run(
        new_accumulator(window="3d", max_lateness="12h", measure="earlier_contacts"), arrival
    )

    assert_matches(results, expected)


def test_a_record_later_than_max_lateness_is_an_error_that_says_why() -> None:
    contacts = [
        Contact("A", "C1", "x", 1.0, None),
        Contact("B", "C1", "x", 3.0, None),
        Contact("late", "C1", "x", 1.5, None),
    ]

    results = run(new_accumulator(window="7d", max_lateness="1d"), contacts)

    assert results["late"].outcome == "error"
    assert "arrived 1d12h out of time order" in results["late"].note
    assert "max_lateness 1d" in results["late"].note
    assert results["B"].outcome is None


def test_results_come_in_opening_order_and_do_not_depend_on_input_order() -> None:
    contacts = random_contacts(seed=17, count=200)
    first = list(run(new_accumulator(window="3d"), contacts).items())
    second = list(run(new_accumulator(window="3d"), reversed(contacts)).items())

    assert first == second
    opening = {contact.record_id: (contact.opened, contact.record_id) for contact in contacts}
    assert [rid for rid, _ in first] == sorted(opening, key=opening.__getitem__)


def test_evidence_names_the_most_recent_earlier_contacts_but_the_value_counts_all() -> None:
    contacts = [Contact(f"E{n:02d}", "C1", "x", n * 0.1, None) for n in range(16)]

    results = run(new_accumulator(window="7d", measure="earlier_contacts"), contacts)

    last = results["E15"]
    assert last.value == 15.0
    assert earlier_ids(last) == [f"E{n:02d}" for n in range(15 - EVIDENCE_LIMIT, 15)]
    assert last.evidence[-1].label == "more"
    assert f"and {15 - EVIDENCE_LIMIT} earlier contacts" in last.evidence[-1].detail
    assert last.note == "came back within 7d of E14, E13, E12, E11, E10 and 10 more"


def test_bad_repeat_contact_parameters_are_reported_when_the_standard_loads(tmp_path: Path) -> None:
    with pytest.raises(StandardsInvalid) as raised:
        engine_for(
            tmp_path,
            """\
            - id: zero-window
              check: repeat_contact
              params: {window: 0s}
            - id: bad-lateness
              check: repeat_contact
              params: {max_lateness: soon}
            """,
        )
    text = str(raised.value)
    assert "window must be longer than 0s" in text
    assert "'soon' is not a duration" in text


def test_the_engine_reports_one_finding_per_in_scope_record(tmp_path: Path) -> None:
    engine = engine_for(
        tmp_path,
        """\
        - id: repeats
          check: repeat_contact
          params: {window: 3d, category: category}
          scope: {field: category, op: eq, value: router}
        """,
    )
    contacts = random_contacts(seed=19, count=80)
    expected = reference(
        [c for c in contacts if c.category == "router"], 3.0, since_resolved=False, by_category=True
    )

    findings = audit(engine, [as_record(contact) for contact in contacts])

    assert {f.record: f.outcome for f in findings} == {
        rid: "fail" if ids else "pass" for rid, ids in expected.items()
    }


# ---------------------------------------------------------------------------------------------
# repeat_contact: memory bounded by the window
# ---------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_memory_stays_bounded_by_the_window_on_a_long_time_ordered_stream() -> None:
    """200,000 records, one every 2 minutes for 278 days, among 20 customers and 3 topics.

    With time-ordered input (max_lateness 0s) the accumulator may keep only the contacts of
    the last two windows (see the module docstring), whatever the length of the input: 2 × 7d
    of one contact every 2 minutes is 10,080 entries.
    """
    window_days, every_minutes, total = 7, 2, 200_000
    bound = 2 * window_days * 24 * 60 // every_minutes + 1
    accumulator = new_accumulator(
        window=f"{window_days}d", category="category", max_lateness="0s", measure="earlier_contacts"
    )
    context = EvaluationContext()
    rng = random.Random(23)
    peak_contacts = peak_waiting = peak_buffered = drained = repeats = 0
    for number in range(total):
        case = Record(
            id=f"R{number:06d}",
            attributes={"customer": f"C{rng.randrange(20)}", "category": f"T{rng.randrange(3)}"},
            events=(
                Event(
                    at=T0 + timedelta(minutes=every_minutes * number),
                    type="opened",
                    actor="customer",
                ),
            ),
        )
        accumulator.add(case, context)
        peak_buffered = max(peak_buffered, accumulator.buffered_results)
        for _record_id, measurement in accumulator.drain():
            drained += 1
            repeats += measurement.value is not None and measurement.value > 0
        if number % 1000 == 0:
            peak_contacts = max(peak_contacts, accumulator.stored_contacts)
            peak_waiting = max(peak_waiting, accumulator.waiting_records)
    drained += sum(1 for _ in accumulator.results())

    assert drained == total
    assert 0 < peak_contacts <= bound
    assert accumulator.stored_contacts <= bound
    assert peak_waiting <= 1
    assert peak_buffered <= 1
    # 60 (customer, topic) pairs each see a contact every 2 hours: nearly all are repeats.
    assert repeats > 0.99 * total


def test_without_an_order_promise_every_contact_is_kept() -> None:
    accumulator = new_accumulator(window="1d")
    context = EvaluationContext()
    for number in range(3000):
        accumulator.add(
            as_record(Contact(f"R{number}", f"C{number % 7}", "x", number / 24, None)), context
        )

    assert accumulator.stored_contacts == 3000
    assert accumulator.waiting_records == 3000


# ---------------------------------------------------------------------------------------------
# real data: the Italian help desk
# ---------------------------------------------------------------------------------------------


def helpdesk_records() -> list[Record]:
    from rulecore_mapping import read_export

    folder = ROOT / "examples" / "helpdesk-italy"
    items = list(read_export(folder / "helpdesk-slice.csv", folder / "helpdesk-italy.mapping.yaml"))
    return [item for item in items if isinstance(item, Record)]


def test_help_desk_customers_coming_back_about_a_product_match_the_reference() -> None:
    records = helpdesk_records()
    contacts = [
        Contact(
            r.id,
            str(r.attributes["customer"]),
            str(r.attributes["product"]),
            (r.events[0].at - T0).total_seconds() / DAY,
            None,
        )
        for r in records
    ]
    expected = reference(contacts, 30.0, since_resolved=False, by_category=True)
    accumulator = new_accumulator(window="30d", category="product", measure="earlier_contacts")
    context = EvaluationContext()
    for case in records:
        accumulator.add(case, context)

    results = dict(accumulator.results())

    assert len(records) > 200
    assert {rid: m.value for rid, m in results.items()} == {
        rid: float(len(ids)) for rid, ids in expected.items()
    }
    assert sum(1 for ids in expected.values() if ids) > 10
