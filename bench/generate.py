"""Generate realistic, seeded interaction records in rulecore's canonical model.

    python bench/generate.py --count 10000 --seed 7 > records.jsonl

The same count and seed always give the same bytes.  The mix is meant to look like a small
service desk: chats answered in seconds to minutes, e-mails in hours, some handoffs, some
special requests (a few refused badly), and some customers who had to chase.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

CHANNELS = (("chat", 0.45), ("email", 0.35), ("phone", 0.20))
PRIORITIES = (("high", 0.15), ("normal", 0.65), ("low", 0.20))
TEAMS = ("billing", "technical", "accounts", "returns")
AGENTS = {team: [f"{team[:3]}-{n}" for n in range(1, 5)] for team in TEAMS}
FIRST_REPLY_SCALE = {"chat": 45.0, "email": 3 * 3600.0, "phone": 20.0}
START = datetime(2026, 3, 2, 8, 0, tzinfo=timezone(timedelta(hours=1)))


def _pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([name for name, _ in weighted], [weight for _, weight in weighted])[0]


def _event(at: datetime, kind: str, actor: str, **fields: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "at": at.replace(microsecond=0).isoformat(),
        "type": kind,
        "actor": actor,
    }
    if fields:
        event["fields"] = fields
    return event


#: How often each team's agents keep the personal side of the service script (greet, use the
#: customer's name, confirm satisfaction, say goodbye): teams differ, so that Martin's quadrant
#: has something to show.
WARMTH = {"billing": 0.95, "technical": 0.55, "accounts": 0.9, "returns": 0.7}


def generate(count: int, seed: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    # A second stream for the richer behaviours (script, tiers, statuses, reopens, open cases),
    # so that adding them left the original timelines' draws as they were.
    extra = random.Random(seed * 1_000_003 + 17)
    for number in range(1, count + 1):
        channel = _pick(rng, CHANNELS)
        priority = _pick(rng, PRIORITIES)
        team = rng.choice(TEAMS)
        agent = rng.choice(AGENTS[team])
        customer = f"C-{rng.randrange(1, max(2, count // 3)):05d}"
        opened = START + timedelta(minutes=rng.randrange(0, 60 * 24 * 28))
        events = [_event(opened, "opened", "customer", channel=channel)]
        clock = opened + timedelta(seconds=rng.uniform(1, 30))
        events.append(_event(clock, "assigned", "system", team=team, agent=agent))
        clock += timedelta(seconds=rng.expovariate(1 / FIRST_REPLY_SCALE[channel]))
        events.append(_event(clock, "message", "agent", agent=agent))
        if rng.random() < 0.25:  # the customer asks for something out of the ordinary
            clock += timedelta(minutes=rng.uniform(1, 30))
            events.append(_event(clock, "request", "customer", what="refund to another card"))
            clock += timedelta(minutes=rng.uniform(1, 60))
            roll = rng.random()
            if roll < 0.6:
                events.append(_event(clock, "request_granted", "agent"))
            elif roll < 0.85:
                events.append(
                    _event(
                        clock,
                        "request_declined",
                        "agent",
                        reason="card closed",
                        alternative="bank transfer",
                    )
                )
            elif roll < 0.95:
                events.append(_event(clock, "request_declined", "agent", reason="policy"))
            else:
                events.append(_event(clock, "request_declined", "agent"))
        for _ in range(rng.choices((0, 1, 2, 3), (0.55, 0.3, 0.1, 0.05))[0]):  # handoffs
            clock += timedelta(minutes=rng.expovariate(1 / 90))
            team = rng.choice([t for t in TEAMS if t != team])
            agent = rng.choice(AGENTS[team])
            events.append(_event(clock, "assigned", "system", team=team, agent=agent))
            clock += timedelta(minutes=rng.expovariate(1 / 30))
            events.append(_event(clock, "message", "agent", agent=agent))
        if rng.random() < 0.2:  # the customer had to come back and ask
            clock += timedelta(hours=rng.uniform(2, 30))
            events.append(_event(clock, "message", "customer", text="any news?"))
            if rng.random() < 0.3:
                clock += timedelta(hours=rng.uniform(2, 24))
                events.append(_event(clock, "chase", "customer", text="still waiting"))
            clock += timedelta(minutes=rng.uniform(5, 120))
            events.append(_event(clock, "message", "agent", agent=agent))
        clock += timedelta(hours=rng.expovariate(1 / 6))
        events.append(_event(clock, "resolved", "agent", agent=agent))
        events = _enrich(extra, events, agent)
        yield {
            "id": f"T-{number:06d}",
            "attributes": {
                "channel": channel,
                "priority": priority,
                "customer": customer,
                "team": events[1]["fields"]["team"],
                "agent": events[1]["fields"]["agent"],
            },
            "events": events,
        }


def _enrich(extra: random.Random, events: list[dict[str, Any]], agent: str) -> list[dict[str, Any]]:
    """Add the service script, escalation tiers, waiting statuses, reopens and open cases."""
    first_team = events[1]["fields"]["team"]
    warmth = WARMTH[first_team]
    events[1]["fields"]["tier"] = 1
    first_reply = events[2]
    if extra.random() < warmth:
        first_reply["fields"]["greeting"] = True
    if extra.random() < warmth:
        first_reply["fields"]["uses_name"] = True
    resolved = events.pop()
    resolved_at = datetime.fromisoformat(resolved["at"])
    before = list(events)
    clock = datetime.fromisoformat(before[-1]["at"])
    if extra.random() < 0.12:  # escalated to the specialists, rarely straight past tier 2
        clock += (resolved_at - clock) / 3
        tier = 3 if extra.random() < 0.15 else 2
        before.append(_event(clock, "escalated", "system", tier=tier))
    if extra.random() < 0.2:  # the desk waits on the customer for a while
        clock += (resolved_at - clock) / 3
        before.append(_event(clock, "status", "agent", status="awaiting_customer", agent=agent))
        clock += (resolved_at - clock) / 2
        before.append(_event(clock, "message", "customer", text="here is what you asked for"))
        clock += (resolved_at - clock) / 4
        before.append(_event(clock, "status", "system", status="open"))
    if extra.random() < 0.03:  # still open when the export was taken
        return before
    # The closing courtesies come between the last step and the resolution, however quick.
    if extra.random() < warmth:
        before.append(_event(clock + (resolved_at - clock) / 2, "satisfaction_checked", "agent"))
    if extra.random() < warmth:
        before.append(_event(clock + (resolved_at - clock) * 3 / 4, "farewell", "agent"))
    after = [resolved]
    if extra.random() < 0.06:  # the fix did not hold
        back = resolved_at + timedelta(hours=extra.uniform(4, 48))
        after.append(_event(back, "message", "customer", text="it is broken again"))
        after.append(_event(back + timedelta(seconds=30), "reopened", "system"))
        after.append(_event(back + timedelta(hours=1), "message", "agent", agent=agent))
        after.append(_event(back + timedelta(hours=3), "resolved", "agent", agent=agent))
    return before + after


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--count", type=int, default=1000, help="how many records to write (default: 1000)"
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=7,
        help="seed of the random draw: the same count and seed give the same bytes (default: 7)",
    )
    args = parser.parse_args(argv)
    write = sys.stdout.write
    for record in generate(args.count, args.seed):
        write(json.dumps(record, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
