"""The plugin's registration: the ``mapping`` reader."""

from __future__ import annotations

from collections.abc import Callable

from rulecore import Reader, hookimpl
from rulecore.i18n import _

from ._read import ranges_mapped, read_mapped, splits_mapped

SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz")


@hookimpl
def rulecore_register_readers(register: Callable[[Reader], None]) -> None:
    register(
        Reader(
            name="mapping",
            description=_(
                "exports (CSV, JSON lines; plain or gzip) through a field mapping: --mapping FILE"
            ),
            suffixes=SUFFIXES,
            read=read_mapped,
            splits=splits_mapped,
            ranges=ranges_mapped,
        )
    )
