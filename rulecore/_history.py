"""Audit history: each audit's scores, kept so that trends can be drawn.

The store is an interface (:class:`HistoryStore`); the default is an embedded SQLite file, so
there is nothing to install.  A server database can implement the same two methods.
Only the summary is kept (scores per dimension, standard and rule), never the records.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from ._agreement import WHOLE_RECORD
from ._i18n import _
from ._summary import Summary
from ._yaml import Location, SourceError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audits (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    recorded_at TEXT NOT NULL,
    label TEXT NOT NULL,
    as_of TEXT,
    records_read INTEGER NOT NULL,
    records_evaluated INTEGER NOT NULL,
    records_rejected INTEGER NOT NULL,
    compliance REAL,
    summary TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS dimension_scores (
    audit_id INTEGER NOT NULL REFERENCES audits(id),
    dimension TEXT NOT NULL,
    passed INTEGER NOT NULL,
    warned INTEGER NOT NULL,
    failed INTEGER NOT NULL,
    compliance REAL,
    within_tolerance REAL,
    PRIMARY KEY (audit_id, dimension)
);
"""

# Made only when an agreement is first recorded, so that a history written before agreements
# were kept (or one that can only be read) is read as it was.
_AGREEMENT_SCHEMA = """
CREATE TABLE IF NOT EXISTS agreements (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    recorded_at TEXT NOT NULL,
    label TEXT NOT NULL,
    reviewed TEXT NOT NULL,
    report TEXT NOT NULL,
    compared INTEGER NOT NULL,
    agreement REAL,
    kappa REAL,
    kappa_low REAL,
    kappa_high REAL,
    result TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS agreement_rules (
    agreement_id INTEGER NOT NULL REFERENCES agreements(id),
    rule TEXT NOT NULL,
    compared INTEGER NOT NULL,
    agreement REAL,
    kappa REAL,
    kappa_low REAL,
    kappa_high REAL,
    PRIMARY KEY (agreement_id, rule)
);
"""


#: rulecore's tables and their columns, and the tables SQLite keeps for itself.
_OURS = {
    "audits": frozenset(
        [
            "id",
            "recorded_at",
            "label",
            "as_of",
            "records_read",
            "records_evaluated",
            "records_rejected",
            "compliance",
            "summary",
        ]
    ),
    "dimension_scores": frozenset(
        ["audit_id", "dimension", "passed", "warned", "failed", "compliance", "within_tolerance"]
    ),
    "agreements": frozenset(
        [
            "id",
            "recorded_at",
            "label",
            "reviewed",
            "report",
            "compared",
            "agreement",
            "kappa",
            "kappa_low",
            "kappa_high",
            "result",
        ]
    ),
    "agreement_rules": frozenset(
        ["agreement_id", "rule", "compared", "agreement", "kappa", "kappa_low", "kappa_high"]
    ),
}
_SQLITE_OWN = frozenset(("sqlite_sequence", "sqlite_stat1", "sqlite_stat4"))


def _foreign(connection: sqlite3.Connection) -> str:
    """What makes this SQLite file another program's, in words; empty when nothing does.

    rulecore writes its tables into an empty file or its own history, never beside another
    program's tables, nor into a table of its name that another program made.
    """
    tables = sorted(
        name
        for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        if name not in _SQLITE_OWN
    )
    others = [name for name in tables if name not in _OURS]
    if others:
        return _("it holds another program's tables ({tables})").format(tables=", ".join(others))
    for name in tables:
        columns = {row[1] for row in connection.execute(f'PRAGMA table_info("{name}")')}
        if not _OURS[name] <= columns:
            missing = ", ".join(sorted(_OURS[name] - columns))
            return _("its table {name} is another program's (it has no {missing})").format(
                name=name, missing=missing
            )
    return ""


@dataclass(frozen=True)
class AuditEntry:
    """One recorded audit, as history lists it."""

    id: int
    recorded_at: str
    label: str
    as_of: str | None
    read: int
    compliance: float | None
    dimensions: dict[str, float | None]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "recorded_at": self.recorded_at,
            "label": self.label,
            "as_of": self.as_of,
            "records_read": self.read,
            "compliance": self.compliance,
            "dimensions": self.dimensions,
        }


@dataclass(frozen=True)
class AgreementEntry:
    """One recorded comparison of reviewers' verdicts with an audit (``rulecore agree``)."""

    id: int
    recorded_at: str
    label: str
    reviewed: str
    report: str
    compared: int
    agreement: float | None
    kappa: float | None
    kappa_low: float | None
    kappa_high: float | None
    rules: dict[str, float | None]  #: kappa per rule; ``(whole record)`` for record verdicts

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "recorded_at": self.recorded_at,
            "label": self.label,
            "reviewed": self.reviewed,
            "report": self.report,
            "compared": self.compared,
            "agreement": self.agreement,
            "kappa": self.kappa,
            "kappa_low": self.kappa_low,
            "kappa_high": self.kappa_high,
            "rules": self.rules,
        }


class HistoryStore(Protocol):
    """Where audits are recorded.  Implementations must keep entries in recording order."""

    def check(self) -> None:
        """Raise :class:`SourceError` if the store cannot be used, before an audit runs."""
        ...

    def record(self, summary: Summary, label: str) -> int: ...

    def entries(self, limit: int | None = None) -> Sequence[AuditEntry]: ...


class SqliteHistory:
    """The default store: one SQLite file, created on first use."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise SourceError(
                Location(str(self.path), 1, 1),
                _(
                    "cannot make the folder {folder} for this history ({why}); "
                    "choose a file in a folder you can write to"
                ).format(folder=self.path.parent, why=error.strerror),
            ) from None
        try:
            connection = sqlite3.connect(self.path)
        except sqlite3.Error as error:
            raise self._cannot_write(error) from None
        try:
            foreign = _foreign(connection)
            if foreign:
                connection.close()
                raise SourceError(
                    Location(str(self.path), 1, 1),
                    _(
                        "this is not a rulecore history: {foreign}; give the history a file of "
                        "its own, such as audits.sqlite"
                    ).format(foreign=foreign),
                )
            connection.executescript(_SCHEMA)
        except sqlite3.OperationalError as error:
            connection.close()
            raise self._cannot_write(error) from None
        except sqlite3.DatabaseError as error:
            connection.close()
            raise SourceError(
                Location(str(self.path), 1, 1),
                _("this is not a rulecore history (an SQLite file): {why}").format(why=error),
            ) from None
        return connection

    def _cannot_write(self, error: Exception) -> SourceError:
        why = error.strerror if isinstance(error, OSError) else str(error)
        return SourceError(
            Location(str(self.path), 1, 1),
            _(
                "cannot write this history ({why}); choose a file in a folder you can write to"
            ).format(why=why),
        )

    def check(self) -> None:
        """Raise :class:`SourceError` now, before an audit, if the store cannot be written.

        A read-only file or folder is only found out by writing, so a write is tried and
        undone.
        """
        connection = self._connect()
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("CREATE TABLE rulecore_write_probe (x)")
            connection.rollback()
        except sqlite3.OperationalError as error:
            raise self._cannot_write(error) from None
        finally:
            connection.close()

    def record(self, summary: Summary, label: str) -> int:
        """Store ``summary``; return the new audit's id."""
        try:
            return self._record(summary, label)
        except sqlite3.OperationalError as error:
            raise self._cannot_write(error) from None

    def _record(self, summary: Summary, label: str) -> int:
        recorded_at = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
        with self._connect() as connection:
            cursor = connection.execute(
                "INSERT INTO audits (recorded_at, label, as_of, records_read, records_evaluated,"
                " records_rejected, compliance, summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    recorded_at,
                    label,
                    summary.as_of.isoformat() if summary.as_of else None,
                    summary.read,
                    summary.evaluated,
                    summary.rejected,
                    summary.outcomes.compliance,
                    json.dumps(summary.as_dict(), sort_keys=True),
                ),
            )
            audit_id = int(cursor.lastrowid or 0)
            connection.executemany(
                "INSERT INTO dimension_scores VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        audit_id,
                        name,
                        counts.passed,
                        counts.warned,
                        counts.failed,
                        counts.compliance,
                        counts.within_tolerance,
                    )
                    for name, counts in summary.dimensions
                ],
            )
        return audit_id

    def record_agreement(self, result: dict[str, Any], label: str) -> int:
        """Store an agreement (``Agreement.as_dict()``); return its id.

        Kept beside the audits, in tables of its own: a history written before agreements
        were recorded gains them on first use, and its audits are untouched.
        """
        try:
            return self._record_agreement(result, label)
        except sqlite3.OperationalError as error:
            raise self._cannot_write(error) from None

    def _record_agreement(self, result: dict[str, Any], label: str) -> int:
        recorded_at = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
        overall = result["overall"]
        with self._connect() as connection:
            connection.executescript(_AGREEMENT_SCHEMA)
            cursor = connection.execute(
                "INSERT INTO agreements (recorded_at, label, reviewed, report, compared,"
                " agreement, kappa, kappa_low, kappa_high, result)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    recorded_at,
                    label,
                    result["reviewed"],
                    result["report"],
                    overall["compared"],
                    overall["agreement"],
                    overall["kappa"],
                    overall["kappa_low"],
                    overall["kappa_high"],
                    json.dumps(result, sort_keys=True, ensure_ascii=False),
                ),
            )
            agreement_id = int(cursor.lastrowid or 0)
            connection.executemany(
                "INSERT INTO agreement_rules VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        agreement_id,
                        rule["rule"] or WHOLE_RECORD,
                        rule["compared"],
                        rule["agreement"],
                        rule["kappa"],
                        rule["kappa_low"],
                        rule["kappa_high"],
                    )
                    for rule in result["rules"]
                ],
            )
        return agreement_id

    def agreements(self, limit: int | None = None) -> list[AgreementEntry]:
        """The most recent ``limit`` agreements (all by default), oldest first."""
        if not self.path.exists():
            return []
        try:
            with self._connect() as connection:
                kept = connection.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'agreements'"
                ).fetchone()
                if kept is None:
                    return []
                rows = connection.execute(
                    "SELECT id, recorded_at, label, reviewed, report, compared, agreement, kappa,"
                    " kappa_low, kappa_high FROM agreements ORDER BY id DESC LIMIT ?",
                    (-1 if limit is None else limit,),
                ).fetchall()
                rules = connection.execute(
                    "SELECT agreement_id, rule, kappa FROM agreement_rules"
                ).fetchall()
        except sqlite3.DatabaseError as error:
            raise SourceError(
                Location(str(self.path), 1, 1),
                f"this is not a rulecore history (an SQLite file): {error}",
            ) from None
        by_agreement: dict[int, dict[str, float | None]] = {}
        for agreement_id, rule, kappa in rules:
            by_agreement.setdefault(agreement_id, {})[rule] = kappa
        return [
            AgreementEntry(
                id=row[0],
                recorded_at=row[1],
                label=row[2],
                reviewed=row[3],
                report=row[4],
                compared=row[5],
                agreement=row[6],
                kappa=row[7],
                kappa_low=row[8],
                kappa_high=row[9],
                rules=by_agreement.get(row[0], {}),
            )
            for row in reversed(rows)
        ]

    def entries(self, limit: int | None = None) -> list[AuditEntry]:
        """The most recent ``limit`` audits (all by default), oldest first."""
        if not self.path.exists():
            return []
        try:
            with self._connect() as connection:
                rows = connection.execute(
                    "SELECT id, recorded_at, label, as_of, records_read, compliance FROM audits"
                    " ORDER BY id DESC LIMIT ?",
                    (-1 if limit is None else limit,),
                ).fetchall()
                scores = connection.execute(
                    "SELECT audit_id, dimension, compliance FROM dimension_scores"
                ).fetchall()
        except sqlite3.DatabaseError as error:
            # Another program's tables of the same names, say, without rulecore's columns.
            raise SourceError(
                Location(str(self.path), 1, 1),
                _("this is not a rulecore history (an SQLite file): {why}").format(why=error),
            ) from None
        by_audit: dict[int, dict[str, float | None]] = {}
        for audit_id, dimension, compliance in scores:
            by_audit.setdefault(audit_id, {})[dimension] = compliance
        return [
            AuditEntry(row[0], row[1], row[2], row[3], row[4], row[5], by_audit.get(row[0], {}))
            for row in reversed(rows)
        ]
