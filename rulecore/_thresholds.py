"""Zone-of-tolerance thresholds.

Customers hold a *desired* and an *adequate* level of service.  A measurement at or better than
desired passes; between desired and adequate it is tolerated and warns; worse than adequate it
fails.  Whether "better" means lower (a duration, a count of handoffs) or higher (a share, a
score) is the check's to say.

Thresholds are written as::

    thresholds: {desired: 1h, adequate: 4h}      # the zone of tolerance
    thresholds: {max: 4h}                         # one line: desired = adequate
    thresholds: {target: 4h, warn_at: 75%}        # warn once 75% of the target is used
    thresholds:                                   # a matrix by a record attribute
      by: priority
      values:
        high: {desired: 30m, adequate: 1h}
        low: {target: 1d, warn_at: 80%}
      otherwise: {desired: 4h, adequate: 8h}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ._durations import format_duration, parse_duration
from ._i18n import _, language
from ._model import Record


@dataclass(frozen=True)
class Thresholds:
    """One zone of tolerance, in the check's unit."""

    desired: float
    adequate: float
    better: str  #: "lower" or "higher"
    unit: str

    def classify(self, value: float) -> str:
        if self.better == "lower":
            if value <= self.desired:
                return "pass"
            return "warn" if value <= self.adequate else "fail"
        if value >= self.desired:
            return "pass"
        return "warn" if value >= self.adequate else "fail"

    def as_dict(self) -> dict[str, Any]:
        return {
            "desired": self.desired,
            "adequate": self.adequate,
            "better": self.better,
            "unit": self.unit,
        }

    def describe(self) -> str:
        """The zone in words, in the current language; worded once per zone and language."""
        return _described(self, language())

    def _describe(self) -> str:
        sign = "≤" if self.better == "lower" else "≥"
        desired, adequate = (
            format_value(self.desired, self.unit),
            format_value(self.adequate, self.unit),
        )
        if self.desired == self.adequate:
            return f"{sign} {desired}"
        return _("desired {sign} {desired}, adequate {sign} {adequate}").format(
            sign=sign, desired=desired, adequate=adequate
        )


@dataclass(frozen=True)
class ThresholdMatrix:
    """Thresholds chosen by a record attribute, such as priority."""

    by: str
    values: Mapping[str, Thresholds]
    otherwise: Thresholds | None

    def for_record(self, record: Record) -> Thresholds | None:
        key = record.attribute(self.by)
        found = self.values.get(str(key)) if key is not None else None
        return found if found is not None else self.otherwise


@lru_cache(maxsize=4096)
def _described(zone: Thresholds, lang: str) -> str:
    return zone._describe()


def format_value(value: float | None, unit: str) -> str:
    """A measured or expected value as people read it."""
    if value is None:
        return "n/a"
    if unit == "seconds":
        return format_duration(value)
    if unit == "ratio":
        return f"{value:.1%}"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:g}"


def parse_amount(raw: Any, unit: str) -> float:
    """A threshold amount in ``unit``: durations for seconds, ``80%`` or 0.8 for ratios."""
    if unit == "seconds":
        return parse_duration(raw)
    if isinstance(raw, str) and raw.strip().endswith("%"):
        return float(raw.strip()[:-1]) / 100
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise ValueError(_("{value!r} is not a number").format(value=raw))
    return float(raw)


def _percentage(raw: Any) -> float:
    if isinstance(raw, str) and raw.strip().endswith("%"):
        share = float(raw.strip()[:-1]) / 100
    elif isinstance(raw, (int, float)) and not isinstance(raw, bool):
        share = float(raw)
    else:
        raise ValueError(
            _("warn_at must be a percentage such as 75%, not {value!r}").format(value=raw)
        )
    if not 0 < share <= 1:
        raise ValueError(_("warn_at must be between 0% and 100%, not {value!r}").format(value=raw))
    return share


def parse_zone(spec: Mapping[str, Any], unit: str, better: str) -> Thresholds:
    """Parse one zone (``desired``/``adequate``, ``max``/``min``, or ``target``/``warn_at``)."""
    if "target" in spec:
        target = parse_amount(spec["target"], unit)
        share = _percentage(spec.get("warn_at", 1))
        # Lower is better: warn once the share of the target is used up.  Higher is better:
        # the target is the desired level and the share of it is still adequate.
        # Rounded so that a share of a target reads as people wrote it (0.72, not 0.72000...1).
        scaled = round(target * share, 9)
        if better == "lower":
            return Thresholds(scaled, target, better, unit)
        return Thresholds(target, scaled, better, unit)
    if "max" in spec or "min" in spec:
        key = "max" if "max" in spec else "min"
        if (key == "min") != (better == "higher"):
            other = "max" if key == "min" else "min"
            raise ValueError(
                _(
                    "'{key}' does not fit this check, where {better} is better; use '{other}'"
                ).format(key=key, better=_(better), other=other)
            )
        amount = parse_amount(spec[key], unit)
        return Thresholds(amount, amount, better, unit)
    if "desired" not in spec and "adequate" not in spec:
        raise ValueError(_("give desired/adequate, max or min, or target with warn_at"))
    desired_raw = spec.get("desired", spec.get("adequate"))
    adequate_raw = spec.get("adequate", spec.get("desired"))
    desired = parse_amount(desired_raw, unit)
    adequate = parse_amount(adequate_raw, unit)
    if better == "lower" and desired > adequate:
        raise ValueError(
            _(
                "desired ({desired}) must not be longer or larger than "
                "adequate ({adequate}): lower is better for this check"
            ).format(desired=format_value(desired, unit), adequate=format_value(adequate, unit))
        )
    if better == "higher" and desired < adequate:
        raise ValueError(
            _(
                "desired ({desired}) must not be below "
                "adequate ({adequate}): higher is better for this check"
            ).format(desired=format_value(desired, unit), adequate=format_value(adequate, unit))
        )
    return Thresholds(desired, adequate, better, unit)


def parse_thresholds(
    spec: Mapping[str, Any], unit: str, better: str
) -> Thresholds | ThresholdMatrix:
    """Parse a rule's ``thresholds`` (already shape-checked by the standard schema)."""
    if "by" in spec:
        values = {str(key): parse_zone(zone, unit, better) for key, zone in spec["values"].items()}
        otherwise = spec.get("otherwise")
        return ThresholdMatrix(
            spec["by"], values, parse_zone(otherwise, unit, better) if otherwise else None
        )
    return parse_zone(spec, unit, better)
