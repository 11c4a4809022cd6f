"""Judging against the rule's own zone of tolerance, for the outcomes a check decides itself.

Most measurements go back to the engine, which applies the rule's thresholds.  Two do not:
an open case judged in flight (it is "at risk" before it breaches, and not judged at all while
on track) and a span that was too rushed.  For those the check needs the zone that applies to
the record, which the compile context provides as ``zone_for(record)``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple

from rulecore import Record, Thresholds, format_duration
from rulecore.i18n import _

ZoneFor = Callable[[Record], Thresholds | None]

_SEVERITY = {"pass": 0, "warn": 1, "fail": 2}


class Judgement(NamedTuple):
    """An outcome a check decided, with the note that explains it."""

    outcome: str | None  #: ``None``: leave it to the engine's thresholds
    note: str


def judge_in_flight(
    so_far: float, zone: Thresholds, at_risk: float | None, as_of: datetime
) -> Judgement:
    """An open case, ``so_far`` seconds in as of ``as_of``: breached, at risk, or on track.

    It is at risk once ``at_risk`` of the adequate level (the target) has elapsed; without
    ``at_risk``, once the desired level has, which is the same share the zone itself draws.
    On track is ``not_applicable``: the case has not finished, so it neither passes nor fails.
    """
    when = _("still open as of {moment}, {so_far} so far").format(
        moment=as_of.isoformat(), so_far=format_duration(so_far)
    )
    target = format_duration(zone.adequate)
    if so_far > zone.adequate:
        return Judgement(
            "fail",
            _("breached: {when}, past the target of {target}").format(when=when, target=target),
        )
    risk_level = zone.adequate * at_risk if at_risk is not None else zone.desired
    used = f"{so_far / zone.adequate:.0%}" if zone.adequate else _("all")
    if so_far >= risk_level:
        return Judgement(
            "warn",
            _("at risk: {when}, {used} of the target of {target}").format(
                when=when, used=used, target=target
            ),
        )
    return Judgement(
        "not_applicable",
        _("on track: {when}, {used} of the target of {target}").format(
            when=when, used=used, target=target
        ),
    )


def judge_too_rushed(seconds: float, lower_bound: Thresholds) -> Judgement:
    """Whether a finished span was too rushed (fail), rushed (warn) or long enough (``None``)."""
    verdict = lower_bound.classify(seconds)
    took = format_duration(seconds)
    if verdict == "fail":
        minimum = format_duration(lower_bound.adequate)
        return Judgement(
            "fail",
            _("too rushed: {took} is under the minimum of {minimum}").format(
                took=took, minimum=minimum
            ),
        )
    if verdict == "warn":
        desired = format_duration(lower_bound.desired)
        return Judgement(
            "warn",
            _("rushed: {took} is under the desired minimum of {desired}").format(
                took=took, desired=desired
            ),
        )
    return Judgement(None, "")


def worse(first: str | None, second: str | None) -> str | None:
    """The worse of two pass/warn/fail outcomes; ``None`` stands for "not decided"."""
    if first is None or second is None:
        return first or second
    return first if _SEVERITY[first] >= _SEVERITY[second] else second
