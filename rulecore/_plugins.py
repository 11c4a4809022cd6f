"""Finding, loading and blocking plugins, and collecting what they register.

Discovery is in two steps, as in flake8: :func:`find_entry_points` lists what is installed,
sorted so that every run sees the same order, and :func:`load_plugins` imports them.  A plugin
that fails to import or to register becomes a :class:`PluginProblem` that names it, not a
crash; ``rulecore plugins`` shows the problems.
"""

from __future__ import annotations

import importlib.metadata
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, NamedTuple

import pluggy

from . import hookspecs
from ._checks import AnyCheck, Check, CrossRecordCheck
from ._i18n import _
from ._readers import Reader
from ._writers import Writer

ENTRY_POINT_GROUP = "rulecore"
BLOCK_ENV = "RULECORE_BLOCK_PLUGINS"

hookimpl = pluggy.HookimplMarker("rulecore")

#: Readers and writers every installation has; registered like any plugin, and blockable.
DEFAULT_PLUGINS = ("rulecore.default_readers", "rulecore.default_writers")


class FoundPlugin(NamedTuple):
    name: str
    value: str
    distribution: str
    version: str


class PluginProblem(NamedTuple):
    plugin: str
    message: str


def find_entry_points() -> Iterator[FoundPlugin]:
    """Yield the installed ``rulecore`` entry points, sorted by name then distribution."""
    found = []
    seen: set[tuple[str, str]] = set()
    for dist in importlib.metadata.distributions():
        for entry_point in dist.entry_points:
            if entry_point.group != ENTRY_POINT_GROUP:
                continue
            dist_name = dist.metadata["Name"] or "unknown"
            key = (entry_point.name, entry_point.value)
            if key in seen:  # the same distribution seen twice on sys.path
                continue
            seen.add(key)
            found.append(FoundPlugin(entry_point.name, entry_point.value, dist_name, dist.version))
    yield from sorted(found)


def blocked_names(environ: dict[str, str] | None = None) -> frozenset[str]:
    """Plugin names blocked through ``RULECORE_BLOCK_PLUGINS`` (comma- or space-separated)."""
    raw = (environ if environ is not None else os.environ).get(BLOCK_ENV, "")
    return frozenset(part for part in raw.replace(",", " ").split() if part)


@dataclass
class PluginManager:
    """A pluggy manager plus what loading it found wrong."""

    hooks: pluggy.PluginManager
    problems: list[PluginProblem] = field(default_factory=list)
    found: list[FoundPlugin] = field(default_factory=list)

    def register(self, plugin: object, name: str | None = None) -> None:
        """Register a plugin object or module directly (as tests and embedders do)."""
        self.hooks.register(plugin, name=name)
        self.hooks.check_pending()


def get_plugin_manager(
    entrypoints: bool = True,
    plugins: Sequence[object] = (),
    blocked: frozenset[str] | None = None,
) -> PluginManager:
    """Build a plugin manager: hook specs, default plugins, entry points, then ``plugins``.

    :param entrypoints: load the installed ``rulecore`` entry points (the first-party
        dimension plugins come in this way, exactly as a third party's would).
    :param plugins: extra plugin objects to register, for tests and embedding.
    :param blocked: names to block; defaults to ``RULECORE_BLOCK_PLUGINS``.
    """
    hooks = pluggy.PluginManager(ENTRY_POINT_GROUP)
    hooks.add_hookspecs(hookspecs)
    manager = PluginManager(hooks)
    for name in sorted(blocked if blocked is not None else blocked_names()):
        hooks.set_blocked(name)
    for module_name in DEFAULT_PLUGINS:
        if not hooks.is_blocked(module_name):
            hooks.register(importlib.import_module(module_name), name=module_name)
    if entrypoints:
        load_plugins(manager, find_entry_points())
    for plugin in plugins:
        # A readable, stable name, so that problems name the plugin the same way every run.
        name = getattr(plugin, "__name__", None) or type(plugin).__name__
        hooks.register(plugin, name=None if hooks.has_plugin(name) else name)
    # A misspelt hook name (``rulecore_register_check``) fails loudly here.
    hooks.check_pending()
    return manager


def load_plugins(manager: PluginManager, found: Iterator[FoundPlugin]) -> None:
    """Import each found entry point and register it; a failure becomes a problem."""
    for plugin in found:
        manager.found.append(plugin)
        if manager.hooks.is_blocked(plugin.name) or manager.hooks.has_plugin(plugin.name):
            continue
        try:
            module = _load_entry_point(plugin)
            manager.hooks.register(module, name=plugin.name)
        except Exception as error:  # a broken plugin must not stop the others
            manager.problems.append(
                PluginProblem(
                    plugin.name,
                    _(
                        "could not load entry point {name} = {value} from {distribution} "
                        "{version}: {kind}: {error}"
                    ).format(
                        name=plugin.name,
                        value=plugin.value,
                        distribution=plugin.distribution,
                        version=plugin.version,
                        kind=type(error).__name__,
                        error=error,
                    ),
                )
            )


def _load_entry_point(plugin: FoundPlugin) -> ModuleType | Any:
    entry_point = importlib.metadata.EntryPoint(plugin.name, plugin.value, ENTRY_POINT_GROUP)
    return entry_point.load()


@dataclass(frozen=True)
class Registry:
    """Everything the loaded plugins registered, by name, in sorted order."""

    checks: dict[str, tuple[str, AnyCheck]]
    readers: dict[str, tuple[str, Reader]]
    writers: dict[str, tuple[str, Writer]]
    problems: tuple[PluginProblem, ...]

    def check(self, name: str) -> AnyCheck | None:
        entry = self.checks.get(name)
        return entry[1] if entry else None


def collect(manager: PluginManager) -> Registry:
    """Call every registration hook, plugin by plugin, and index what comes back."""
    problems = list(manager.problems)
    checks = _collect_hook(manager, "rulecore_register_checks", (Check, CrossRecordCheck), problems)
    readers = _collect_hook(manager, "rulecore_register_readers", (Reader,), problems)
    writers = _collect_hook(manager, "rulecore_register_writers", (Writer,), problems)
    return Registry(checks, readers, writers, tuple(problems))


def _collect_hook(
    manager: PluginManager,
    hook_name: str,
    kinds: tuple[type, ...],
    problems: list[PluginProblem],
) -> dict[str, tuple[str, Any]]:
    provided: dict[str, tuple[str, Any]] = {}
    caller = getattr(manager.hooks.hook, hook_name)
    impls = sorted(caller.get_hookimpls(), key=lambda impl: impl.plugin_name)
    for impl in impls:
        plugin = impl.plugin_name
        items: list[Any] = []
        try:
            impl.function(register=_collector(items))
        except Exception as error:  # a broken plugin must not stop the others
            problems.append(
                PluginProblem(
                    plugin,
                    _("{hook} raised {kind}: {error}").format(
                        hook=hook_name, kind=type(error).__name__, error=error
                    ),
                )
            )
            continue
        for item in items:
            name = getattr(item, "name", None)
            if not isinstance(item, kinds) or not isinstance(name, str):
                expected = " or ".join(kind.__name__ for kind in kinds)
                problems.append(
                    PluginProblem(
                        plugin,
                        _("{hook} registered {item!r}, not a {expected}").format(
                            hook=hook_name, item=item, expected=expected
                        ),
                    )
                )
            elif name in provided:
                problems.append(
                    PluginProblem(
                        plugin,
                        _(
                            "{name!r} is registered by both {first!r} and {second!r}; "
                            "the first one is kept"
                        ).format(name=name, first=provided[name][0], second=plugin),
                    )
                )
            else:
                provided[name] = (plugin, item)
    return dict(sorted(provided.items()))


def _collector(items: list[Any]) -> Callable[[Any], None]:
    return items.append
