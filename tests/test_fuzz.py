"""Fuzzing rulecore's edges with Hypothesis: no input makes it crash, hang or lie (issue 11).

CI runs a few hundred examples with a fixed seed; ``bench/fuzz.py`` runs many more, and
``docs/robustness.md`` says how many, with which seed, and what they found.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import (
    audit_holds,
    map_holds,
    mapping_cases,
    records_text,
    standards,
    waivers,
    write_case,
)

from rulecore.cli import main

CI = settings(
    derandomize=True,
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@CI
@given(records=records_text(), standard=standards(), with_schedule=st.booleans())
def test_an_audit_of_any_records_against_any_standard_answers(
    records: str, standard: str, with_schedule: bool
) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        write_case(folder, records, standard, with_schedule)
        audit_holds(folder, [])


@CI
@given(records=records_text(), waiver_text=waivers())
def test_any_waivers_file_is_applied_or_refused_in_one_line(records: str, waiver_text: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        write_case(folder, records, _FIRST_REPLY, with_schedule=False)
        (folder / "waivers.yaml").write_text(waiver_text, encoding="utf-8")
        options = ["--waivers", str(folder / "waivers.yaml"), "--as-of", "2026-06-01T00:00:00Z"]
        audit_holds(folder, options)


@CI
@given(case=mapping_cases())
def test_any_mapping_and_export_is_mapped_or_refused_in_one_line(
    case: tuple[str, str, str],
) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        map_holds(Path(scratch), *case)


_FIRST_REPLY = (
    Path(__file__).resolve().parent.parent / "standards" / "timeliness-first-reply.yaml"
).read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# what fuzzing found, kept
# ---------------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
NYC = ROOT / "examples" / "nyc-311"


@pytest.mark.parametrize(
    ("encoding", "words"),
    [
        ("rot13", "'rot13' is not a text encoding"),
        ("base64", "'base64' is not a text encoding"),
        ("nope", "'nope' is not an encoding"),
    ],
)
@pytest.mark.parametrize("command", ["map", "audit"])
def test_a_mapping_whose_encoding_cannot_read_text_is_one_located_error(
    tmp_path: Path, encoding: str, words: str, command: str
) -> None:
    # Was a LookupError traceback and exit 1, once the export was opened.
    text = (NYC / "nyc-311.mapping.yaml").read_text(encoding="utf-8")
    mapping = tmp_path / "nyc.mapping.yaml"
    mapping.write_text(
        text.replace("  format: csv\n", f"  format: csv\n  encoding: {encoding}\n"), "utf-8"
    )
    line = mapping.read_text(encoding="utf-8").splitlines().index(f"  encoding: {encoding}") + 1
    export = NYC / "311-2011-slice.csv"
    args = {
        "map": ["map", str(export), "-m", str(mapping)],
        "audit": ["audit", str(export), "-m", str(mapping), "-s", str(NYC)],
    }[command]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [
        f"error: {mapping}:{line}:13: {words} Python knows; use one such as utf-8, utf-8-sig, "
        "cp1252 or latin-1"
    ]
