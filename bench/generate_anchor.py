"""The reference workload: help-desk interactions as an API exports them, one JSON line each.

    python bench/generate_anchor.py --count 200000 --seed 11 -o anchor.jsonl

Each line is one interaction: ``interaction_id``, ``priority`` (low, normal, high, urgent),
twenty other top-level fields (channel, queue, tier, a list of tags...), and ``events``: an
array of 5 to 20 objects ``{seq, type, ts, actor, agent_id, queue, body_len}`` with ``ts``
like ``2026-03-02T09:15:00Z``.  ``bench/anchor/anchor.mapping.yaml`` reads it as it is, and
``bench/anchor/anchor.yaml`` holds the five rules of the workload (R1-R5).

The mix is made so that every rule both passes and fails: some interactions are never
answered, some never resolved, some transferred more than twice, some sit untouched for over
a day, and some urgent ones wait long for an assignment.  A few land exactly on a rule's
bound (4h, 48h, 30m, 24h), where "over" must not fail.  Timestamps within an interaction are
distinct, so time order is never a matter of ties; about one array in a hundred lists two
events out of time order, as exports sometimes do.  The same count and seed always give the
same bytes.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

START = datetime(2026, 3, 2, tzinfo=timezone.utc)
MINUTE, HOUR = 60, 3600
PRIORITIES = (("low", 30), ("normal", 45), ("high", 18), ("urgent", 7))
CHANNELS = ("email", "chat", "phone", "web", "social")
QUEUES = ("billing", "technical", "accounts", "returns", "general")
TIERS = ("free", "pro", "business", "enterprise")
TAGS = ("refund", "login", "invoice", "bug", "vip", "outage", "feedback", "shipping", "upgrade")
FILLERS = (("customer_message", 34), ("note", 22), ("status_change", 18), ("escalation", 6))
FILLER_ACTORS = {
    "customer_message": "customer",
    "note": "agent",
    "status_change": "system",
    "escalation": "agent",
    "agent_response": "agent",
}


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([name for name, _ in weighted], [weight for _, weight in weighted])[0]


def _attributes(rng: random.Random, index: int) -> dict[str, Any]:
    return {
        "channel": rng.choice(CHANNELS),
        "queue": rng.choice(QUEUES),
        "tier": rng.choice(TIERS),
        "tags": rng.sample(TAGS, rng.randint(0, 3)),
        "customer_id": f"C-{rng.randint(1, 60000):06d}",
        "region": rng.choice(("emea", "amer", "apac")),
        "language": rng.choice(("en", "de", "fr", "es", "it", "ja")),
        "product": rng.choice(("mail", "drive", "chat", "billing-portal", "mobile")),
        "sla_plan": rng.choice(("standard", "premium", "none")),
        "created_via": rng.choice(("api", "widget", "inbound-email", "agent")),
        "country": rng.choice(("GB", "DE", "FR", "US", "JP", "IT", "ES", "BR")),
        "account_age_days": rng.randint(0, 4000),
        "satisfaction": rng.choice((None, 1, 2, 3, 4, 5)),
        "is_vip": rng.random() < 0.05,
        "source_system": "helpdesk-api",
        "brand": rng.choice(("acme", "globex")),
        "category": rng.choice(("question", "incident", "problem", "task")),
        "subcategory": f"sub-{rng.randint(1, 40)}",
        "sentiment": round(rng.uniform(-1, 1), 2),
        "org_size": rng.choice(("1-10", "11-50", "51-500", "500+")),
    }


def _key_times(rng: random.Random, priority: str) -> dict[str, int | None]:
    """Seconds after creation of the events the rules read; ``None``: it never happened."""
    urgent = priority in ("high", "urgent")
    roll = rng.random()
    if roll < 0.04:
        assigned: int | None = None
    elif roll < 0.07:
        assigned = 30 * MINUTE  # on the bound: not over 30 minutes
    elif urgent and roll < 0.35:
        assigned = rng.randint(31 * MINUTE, 4 * HOUR)
    elif urgent:
        assigned = rng.randint(MINUTE, 29 * MINUTE)
    else:
        assigned = rng.randint(2 * MINUTE, 3 * HOUR)
    roll = rng.random()
    if roll < 0.12:
        response: int | None = None
    elif roll < 0.15:
        response = 4 * HOUR  # on the bound
    elif roll < 0.40:
        response = rng.randint(4 * HOUR + 1, 36 * HOUR)
    else:
        response = rng.randint(5 * MINUTE, 4 * HOUR - 1)
    if assigned is not None and response is not None and response <= assigned:
        response = None if response == 4 * HOUR else assigned + rng.randint(1, 20 * MINUTE)
    roll = rng.random()
    if roll < 0.18:
        resolved: int | None = None
    elif roll < 0.21:
        resolved = 48 * HOUR  # on the bound
    elif roll < 0.45:
        resolved = rng.randint(48 * HOUR + 1, 120 * HOUR)
    else:
        resolved = rng.randint(HOUR, 48 * HOUR - 1)
    latest = max(value for value in (assigned, response, 60) if value is not None)
    if resolved is not None and resolved <= latest:
        resolved = latest + rng.randint(MINUTE, 6 * HOUR)
    return {"assigned": assigned, "agent_response": response, "resolved": resolved}


def _timeline(rng: random.Random, priority: str) -> list[tuple[int, str]]:
    """(seconds after creation, type) for every event, in time order, times distinct."""
    keys = _key_times(rng, priority)
    placed: dict[int, str] = {0: "created"}
    for kind, at in keys.items():
        if at is not None:
            placed[at] = kind
    resolved, response = keys["resolved"], keys["agent_response"]
    end = resolved if resolved is not None else rng.randint(2 * HOUR, 96 * HOUR)
    if rng.random() < 0.08:  # a long silence: nothing happens for over a day somewhere
        end = max(end, 30 * HOUR)
    if resolved is not None and rng.random() < 0.12:  # reopened: a message, then resolved again
        later = resolved + rng.randint(HOUR, 30 * HOUR)
        placed[later] = "resolved"
        placed[rng.randint(resolved + 1, later - 1)] = "customer_message"
    transfers = rng.choices((0, 1, 2, 3, 4), (50, 25, 12, 8, 5))[0]
    kinds = ["transfer"] * transfers
    if response is not None and rng.random() < 0.6:
        kinds += ["agent_response"] * rng.randint(1, 3)
    wanted = max(rng.randint(5, 20), len(placed) + len(kinds))  # at most 6 + 4 + 3 = 13
    while len(placed) + len(kinds) < wanted:
        kinds.append(_pick(rng, FILLERS))
    for kind in kinds:
        earliest = response + 1 if kind == "agent_response" and response is not None else 1
        latest = end - 1 if end > earliest + 1 else earliest + HOUR
        for _attempt in range(20):
            at = rng.randint(earliest, latest)
            if rng.random() < 0.7:
                at -= at % MINUTE or 0  # most updates land on whole minutes
                at = max(at, earliest)
            if at not in placed:
                placed[at] = kind
                break
    return sorted(placed.items())


def _events(
    rng: random.Random, created: datetime, priority: str, queue: str
) -> list[dict[str, Any]]:
    events = []
    agent = f"A-{rng.randint(1, 400):03d}"
    for seq, (offset, kind) in enumerate(_timeline(rng, priority), start=1):
        if kind == "transfer":
            queue = rng.choice([other for other in QUEUES if other != queue])
            agent = f"A-{rng.randint(1, 400):03d}"
        actor = FILLER_ACTORS.get(kind) or (
            "customer" if kind == "created" else "system" if kind == "assigned" else "agent"
        )
        at = created + timedelta(seconds=offset)
        events.append(
            {
                "seq": seq,
                "type": kind,
                "ts": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "actor": actor,
                "agent_id": agent if actor == "agent" or kind == "assigned" else None,
                "queue": queue,
                "body_len": rng.randint(20, 3000)
                if kind in ("customer_message", "agent_response", "created")
                else 0,
            }
        )
    if len(events) > 3 and rng.random() < 0.01:  # an export that lists two events out of order
        at = rng.randint(1, len(events) - 2)
        events[at], events[at + 1] = events[at + 1], events[at]
    return events


def interactions(count: int, seed: int) -> Iterator[dict[str, Any]]:
    """``count`` interactions, the same ones for the same seed."""
    rng = random.Random(seed)
    for index in range(count):
        priority = _pick(rng, PRIORITIES)
        created = START + timedelta(seconds=rng.randint(0, 60 * 86400) // MINUTE * MINUTE)
        attributes = _attributes(rng, index)
        yield {
            "interaction_id": f"INT-{index:07d}",
            "priority": priority,
            **attributes,
            "events": _events(rng, created, priority, attributes["queue"]),
        }


def write(path: Path, count: int, seed: int) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for interaction in interactions(count, seed):
            out.write(json.dumps(interaction, separators=(",", ":")) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args(argv)
    write(args.output, args.count, args.seed)
    print(f"wrote {args.count} interactions to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
