"""Escalation levels: a case climbs the support tiers one level at a time.

The level is an event field (``fields.level`` by default) read along the timeline; repeats of
the current level are no change.  Three things can break the ladder, each of which a standard
may allow: starting above the first level, skipping a level on the way up, and moving back
down.  A level the standard does not list is a violation too, unless told to ignore it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from rulecore import (
    Check,
    CompileContext,
    EvaluationContext,
    Evaluator,
    Measurement,
    Record,
    compile_selector,
    field_key,
)
from rulecore.i18n import _, evidence_label

from ._common import (
    SELECTOR_DEFS,
    VALUE_SCHEMA,
    EventPredicate,
    event_evidence,
    selector,
)

UNKNOWN_IS_VIOLATION = "violation"
UNKNOWN_IS_IGNORED = "ignore"

ESCALATION_LEVELS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["levels"],
    "additionalProperties": False,
    "properties": {
        "levels": {
            "type": "array",
            "items": VALUE_SCHEMA,
            "minItems": 2,
            "uniqueItems": True,
            "description": "The levels, lowest first: names ([L1, L2, L3]) or numbers "
            "([1, 2, 3]).  2, 2.0 and '2' are the same level.",
        },
        "field": {
            "type": "string",
            "minLength": 1,
            "description": "The event field that holds the level (default: level).",
        },
        "events": selector("Which events carry the level (default: any event with the field)."),
        "start_at_first": {
            "type": "boolean",
            "description": "The first level recorded must be the lowest (default: true).",
        },
        "allow_skips": {
            "type": "boolean",
            "description": "Rising more than one level at once is allowed (default: false).",
        },
        "allow_down": {
            "type": "boolean",
            "description": "Moving back down to a lower level is allowed (default: false).",
        },
        "unknown_levels": {
            "enum": [UNKNOWN_IS_VIOLATION, UNKNOWN_IS_IGNORED],
            "description": "A value that is not in 'levels' (default: violation).  ignore "
            "leaves such events out, as if they carried no level.",
        },
    },
    "$defs": SELECTOR_DEFS,
}


class Ladder(NamedTuple):
    """The compiled rules of one escalation ladder."""

    names: tuple[str, ...]  #: the levels as written, lowest first, for the evidence
    rank: Mapping[str, int]  #: level key → position (0 is the first level)
    start_at_first: bool
    allow_skips: bool
    allow_down: bool
    unknown_is_violation: bool


class LevelStep(NamedTuple):
    """One recorded level change and whether it broke the ladder (``violation`` is a label)."""

    event_index: int
    violation: str | None
    detail: str


def compile_ladder(params: Mapping[str, Any]) -> Ladder:
    levels: Sequence[Any] = params["levels"]
    keys = [field_key(level) for level in levels]
    duplicates = sorted({str(key) for key in keys if keys.count(key) > 1})
    if duplicates:
        raise ValueError(
            _("levels lists {levels} more than once").format(levels=", ".join(duplicates))
        )
    return Ladder(
        names=tuple(str(level) for level in levels),
        rank={str(key): position for position, key in enumerate(keys)},
        start_at_first=params.get("start_at_first", True),
        allow_skips=params.get("allow_skips", False),
        allow_down=params.get("allow_down", False),
        unknown_is_violation=params.get("unknown_levels", UNKNOWN_IS_VIOLATION)
        == UNKNOWN_IS_VIOLATION,
    )


def compile_escalation_levels(params: Mapping[str, Any], context: CompileContext) -> Evaluator:
    ladder = compile_ladder(params)
    field = params.get("field", "level")
    events = params.get("events")
    carries_level = compile_selector(events) if events is not None else None

    def escalation_levels(record: Record, context: EvaluationContext) -> Measurement:
        steps = list(_level_steps(record, ladder, field, carries_level))
        if not steps:
            return Measurement.not_applicable(_("no event records a {field}").format(field=field))
        evidence = tuple(
            event_evidence(record, step.event_index, step.violation or "level", step.detail)
            for step in steps
        )
        violations = [step for step in steps if step.violation]
        note = ", ".join(evidence_label(step.violation or "") for step in violations)
        return Measurement(float(len(violations)), evidence, note)

    return escalation_levels


def _level_steps(
    record: Record, ladder: Ladder, field: str, carries: EventPredicate | None
) -> Iterator[LevelStep]:
    """Each change of level, judged against the ladder."""
    current: int | None = None
    for index, event in enumerate(record.events):
        if carries is not None and not carries(event):
            continue
        key = field_key(event.fields.get(field))
        if key is None:
            continue
        rank = ladder.rank.get(key)
        if rank is None:
            if ladder.unknown_is_violation:
                known = ", ".join(ladder.names)
                yield LevelStep(
                    index,
                    "unknown_level",
                    _("{key} is not a level ({known})").format(key=key, known=known),
                )
            continue
        if rank == current:
            continue
        yield LevelStep(index, _judge(ladder, current, rank), _words(ladder, current, rank))
        current = rank


def _judge(ladder: Ladder, current: int | None, rank: int) -> str | None:
    if current is None:
        return "started_above_first" if ladder.start_at_first and rank > 0 else None
    if rank > current + 1 and not ladder.allow_skips:
        return "skipped_level"
    if rank < current and not ladder.allow_down:
        return "moved_down"
    return None


def _words(ladder: Ladder, current: int | None, rank: int) -> str:
    names = ladder.names
    if current is None:
        return _("started at {level}").format(level=names[rank])
    if rank > current + 1:
        skipped = ", ".join(names[current + 1 : rank])
        return _("{before} → {after}, skipping {skipped}").format(
            before=names[current], after=names[rank], skipped=skipped
        )
    return f"{names[current]} → {names[rank]}"


ESCALATION_LEVELS = Check(
    name="escalation_levels",
    dimension="flow",
    doc=(
        "Escalation climbs one level at a time.  The level is read from an event field "
        "(default: level) along the timeline and compared with the ordered 'levels' of the "
        "standard.  Each of these is one violation: the first level recorded is above the "
        "first level (unless start_at_first is false), a rise skips a level (unless "
        "allow_skips), a move back down (unless allow_down), and a value that is not a listed "
        "level (unless unknown_levels: ignore).  Repeating the current level is no change.  "
        "Lower is better; by default any violation fails.  A record whose events never carry "
        "the level is not_applicable.  Evidence lists every level change, labelled level or "
        "by the violation (started_above_first, skipped_level, moved_down, unknown_level)."
    ),
    params_schema=ESCALATION_LEVELS_SCHEMA,
    compile=compile_escalation_levels,
    unit="count",
    better="lower",
    default_thresholds={"max": 0},
    example=(
        "- id: one-level-at-a-time\n"
        "  check: escalation_levels\n"
        "  params:\n"
        "    field: tier\n"
        "    levels: [1, 2, 3]\n"
        "    allow_down: true\n"
    ),
)
