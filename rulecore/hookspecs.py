"""The rulecore hook specification: everything a plugin can provide.

A plugin is a module (or object) with functions named after these hooks and marked with
``@rulecore.hookimpl``.  It is found through the ``rulecore`` entry-point group::

    [project.entry-points.rulecore]
    my_checks = "my_package.rulecore_plugin"

Registration hooks receive a ``register`` callback and call it once per thing they provide,
so that one plugin can provide several, and rulecore knows which plugin provided each (a
failure names it).  They run once at start-up, never per record: the engine compiles the
standards and then calls the compiled checks directly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from ._checks import AnyCheck
    from ._readers import Reader
    from ._writers import Writer

hookspec = pluggy.HookspecMarker("rulecore")


# ---------------------------------------------------------------------------------------------
# checks
# ---------------------------------------------------------------------------------------------


@hookspec
def rulecore_register_checks(register: Callable[[AnyCheck], None]) -> None:
    """Register the checks this plugin provides.

    Call ``register`` with one :class:`rulecore.Check` (a per-record check) or
    :class:`rulecore.CrossRecordCheck` (a check over several records, such as repeat contacts)
    for each check.  Check names are global: two plugins registering the same name is an error
    that names both.

    :param register: the callback to call once per check.
    :return: nothing; the result is ignored.
    """


# ---------------------------------------------------------------------------------------------
# input and output
# ---------------------------------------------------------------------------------------------


@hookspec
def rulecore_register_readers(register: Callable[[Reader], None]) -> None:
    """Register the record readers (input formats) this plugin provides.

    A :class:`rulecore.Reader` turns a file into a stream of records and rejections.  The
    first reader whose ``suffixes`` match a file reads it, unless the user names one with
    ``--reader``.

    :param register: the callback to call once per reader.
    :return: nothing; the result is ignored.
    """


@hookspec
def rulecore_register_writers(register: Callable[[Writer], None]) -> None:
    """Register the report writers (output formats) this plugin provides.

    A :class:`rulecore.Writer` is chosen with ``rulecore audit --format NAME``.  It receives
    every finding and rejection as the audit streams, then the summary.  A writer of bytes
    (a workbook) says ``binary=True`` and is given a binary stream; others get text.

    :param register: the callback to call once per writer.
    :return: nothing; the result is ignored.
    """
