"""Reports to hand on: a self-contained HTML report with charts, JUnit XML, SARIF, and an
Excel workbook when XlsxWriter (the ``xlsx`` extra) is installed.

Each is a writer (``rulecore audit --format html``, or beside the scorecard with
``--report html:report.html``), registered through the same hook as any third party's.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.util import find_spec

from rulecore import Writer, hookimpl
from rulecore.i18n import _

from ._html import HtmlSink
from ._junit import JunitSink
from ._sarif import SarifSink


@hookimpl
def rulecore_register_writers(register: Callable[[Writer], None]) -> None:
    register(
        Writer(
            "html",
            _("a self-contained HTML report with charts and drill-down (works offline)"),
            HtmlSink,
        )
    )
    register(Writer("junit", _("JUnit XML, one test case per rule, for CI gates"), JunitSink))
    register(Writer("sarif", _("SARIF 2.1.0, for code-scanning dashboards"), SarifSink))
    if find_spec("xlsxwriter") is not None:
        from ._xlsx import XlsxSink

        register(
            Writer(
                "xlsx",
                _("an Excel workbook: summary, rules, findings and rejected input (binary)"),
                XlsxSink,
                binary=True,
            )
        )
