"""Safe YAML loading that remembers where every value came from.

Standards, schedules, fixtures and mappings are loaded with :class:`SafeLoader` (never the full
loader), keeping the node tree so that a validation error can name ``file:line:col``.
Timestamps are left as strings: rulecore parses time itself, with offsets, and a date in a
scope condition must compare as the text the author wrote.

A file is untrusted until it has loaded, so its size, its nesting and its aliases are capped
(:class:`YamlLimits`): a ten-thousand-deep list or an alias bomb is refused, at its place in the
file, before anything walks the document recursively.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from ._i18n import _

#: The largest YAML file read, in bytes (``RULECORE_YAML_MAX_BYTES``).
DEFAULT_MAX_BYTES = 1_048_576
#: The deepest nesting of lists and mappings, aliases expanded (``RULECORE_YAML_MAX_DEPTH``).
DEFAULT_MAX_DEPTH = 64
#: The most aliases (``*name``) one file may use (``RULECORE_YAML_MAX_ALIASES``).
DEFAULT_MAX_ALIASES = 1_000
#: The most nodes a document may hold once its aliases are expanded (``RULECORE_YAML_MAX_NODES``).
DEFAULT_MAX_NODES = 200_000
#: Deeper than this, validating the document would exhaust Python's stack, whatever is asked.
DEPTH_CEILING = 100


class Location(NamedTuple):
    """Where something is in a source file (1-based line and column)."""

    path: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


class SourceError(Exception):
    """A problem with a user's file, located at ``file:line:col``."""

    def __init__(self, location: Location, message: str) -> None:
        super().__init__(f"{location}: {message}")
        self.location = location
        self.message = message


class YamlLimits(NamedTuple):
    """How large a YAML document rulecore agrees to load."""

    max_bytes: int = DEFAULT_MAX_BYTES
    max_depth: int = DEFAULT_MAX_DEPTH
    max_aliases: int = DEFAULT_MAX_ALIASES
    max_nodes: int = DEFAULT_MAX_NODES

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> YamlLimits:
        """The defaults, each overridden by its ``RULECORE_YAML_MAX_*`` variable if set.

        Raises :class:`ValueError` naming a variable that is not a positive whole number.
        """
        environ = os.environ if environ is None else environ
        values = {
            field: _positive(environ, f"RULECORE_YAML_{field.upper()}", default)
            for field, default in cls._field_defaults.items()
        }
        values["max_depth"] = min(values["max_depth"], DEPTH_CEILING)
        return cls(**values)


def _positive(environ: Mapping[str, str], name: str, default: int) -> int:
    text = environ.get(name, "").strip().replace("_", "")
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{name} must be a positive whole number, not {environ[name]!r}")
    return int(text)


class _LimitExceeded(Exception):
    def __init__(self, mark: Any, message: str) -> None:
        super().__init__(message)
        self.mark = mark
        self.message = message


class _Loader(yaml.SafeLoader):
    """SafeLoader without implicit timestamps, that stops at the nesting and alias limits."""

    def __init__(self, stream: str, limits: YamlLimits) -> None:
        super().__init__(stream)
        self.limits = limits
        self.depth = 0
        self.aliases = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > self.limits.max_aliases:
                raise _LimitExceeded(
                    event.start_mark,
                    _(
                        "this file uses more than {limit} aliases "
                        "(the limit is RULECORE_YAML_MAX_ALIASES)"
                    ).format(limit=self.limits.max_aliases),
                )
            return super().compose_node(parent, index)
        self.depth += 1
        try:
            if self.depth > self.limits.max_depth:
                raise _LimitExceeded(event.start_mark, _too_deep(self.limits))
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _too_deep(limits: YamlLimits, aliases: str = "") -> str:
    return _(
        "nested more than {limit} levels deep{aliases} (the limit is RULECORE_YAML_MAX_DEPTH)"
    ).format(limit=limits.max_depth, aliases=aliases)


def _check_expansion(node: yaml.Node, limits: YamlLimits) -> None:
    """Refuse a document whose aliases expand it past the limits, or into itself.

    Aliases make the node tree a graph that shares nodes, so each node's expanded size and
    height are counted once, bottom up, without recursion.
    """
    measured: dict[int, tuple[int, int]] = {}  # id(node): (expanded nodes, height)
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(node, False)]
    while stack:
        current, children_done = stack.pop()
        key = id(current)
        children = _children(current)
        if children_done:
            open_nodes.discard(key)
            size = 1 + sum(measured[id(child)][0] for child in children)
            height = 1 + max((measured[id(child)][1] for child in children), default=0)
            if height > limits.max_depth:
                deep = _too_deep(limits, _(" once aliases expand"))
                raise _LimitExceeded(current.start_mark, deep)
            if size > limits.max_nodes:
                raise _LimitExceeded(
                    current.start_mark,
                    _(
                        "it holds more than {limit} values once its aliases are expanded "
                        "(the limit is RULECORE_YAML_MAX_NODES)"
                    ).format(limit=limits.max_nodes),
                )
            measured[key] = (size, height)
            continue
        if key in measured:
            continue
        if key in open_nodes:
            raise _LimitExceeded(current.start_mark, _("an alias here refers to a value it is in"))
        open_nodes.add(key)
        stack.append((current, True))
        stack.extend((child, False) for child in children)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class Document(NamedTuple):
    """A loaded YAML document: its data plus the node tree that locates each value."""

    path: str
    data: Any
    node: yaml.Node | None

    def locate(self, path: Iterable[str | int]) -> Location:
        """The location of the value at ``path`` (keys and indexes), or its nearest parent."""
        node = self.node
        if node is None:
            return Location(self.path, 1, 1)
        for step in path:
            child = child_node(node, step)
            if child is None:
                break
            node = child
        mark = node.start_mark
        return Location(self.path, mark.line + 1, mark.column + 1)

    def locate_key(self, path: Sequence[str | int]) -> Location:
        """The location of the *key* at the end of ``path`` (for unknown or duplicate keys)."""
        parent = self.node
        for step in path[:-1]:
            parent = child_node(parent, step) if parent is not None else None
        if isinstance(parent, yaml.MappingNode):
            for key, _value in parent.value:
                if key.value == path[-1]:
                    return Location(self.path, key.start_mark.line + 1, key.start_mark.column + 1)
        return self.locate(path)


def child_node(node: yaml.Node, step: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == step or (isinstance(step, int) and key.value == str(step)):
                return value  # type: ignore[no-any-return]
    elif (
        isinstance(node, yaml.SequenceNode)
        and isinstance(step, int)
        and 0 <= step < len(node.value)
    ):
        return node.value[step]  # type: ignore[no-any-return]
    return None


def _check_duplicate_keys(path: str, node: yaml.Node | None) -> None:
    # PyYAML keeps the last of two equal keys silently; an author who wrote a key twice
    # almost certainly lost the first value without knowing.
    stack = [node] if node is not None else []
    while stack:
        current = stack.pop()
        if isinstance(current, yaml.MappingNode):
            seen: dict[Any, yaml.Node] = {}
            for key, value in current.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in seen:
                        first = seen[key.value].start_mark.line + 1
                        mark = key.start_mark
                        raise SourceError(
                            Location(path, mark.line + 1, mark.column + 1),
                            _("key {key!r} appears twice (first on line {first})").format(
                                key=key.value, first=first
                            ),
                        )
                    seen[key.value] = key
                stack.append(value)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)


def load_yaml_text(text: str, path: str = "<string>", limits: YamlLimits | None = None) -> Document:
    """Parse one YAML document safely, keeping locations; raise :class:`SourceError`.

    ``limits`` defaults to :meth:`YamlLimits.from_environment`.
    """
    limits = _limits(path, limits)
    if len(text) > limits.max_bytes:
        raise SourceError(Location(path, 1, 1), _too_large(len(text), limits))
    try:
        loader = _Loader(text, limits)
    except yaml.reader.ReaderError as error:
        raise SourceError(_position(text, path, error.position), _unreadable(error)) from None
    try:
        node = loader.get_single_node()
        if node is not None:
            _check_expansion(node, limits)
        _check_duplicate_keys(path, node)
        data = loader.construct_document(node) if node is not None else None
    except _LimitExceeded as error:
        location = _mark_location(path, error.mark)
        raise SourceError(
            location, _("this YAML is refused: {why}").format(why=error.message)
        ) from None
    except yaml.reader.ReaderError as error:
        raise SourceError(_position(text, path, error.position), _unreadable(error)) from None
    except RecursionError:
        # Only reachable below DEPTH_CEILING when the interpreter's stack is already deep.
        raise SourceError(
            Location(path, 1, 1), _("this YAML is nested too deeply to read")
        ) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        location = Location(path, mark.line + 1, mark.column + 1) if mark else Location(path, 1, 1)
        raise SourceError(
            location, _("this is not valid YAML: {problem}").format(problem=error.problem)
        ) from None
    except yaml.YAMLError as error:
        raise SourceError(
            Location(path, 1, 1), _("this is not valid YAML: {problem}").format(problem=error)
        ) from None
    finally:
        loader.dispose()
    return Document(path, data, node)


def load_yaml_file(path: Path, limits: YamlLimits | None = None) -> Document:
    """Load a YAML file; a file that cannot be read, is too large or is not UTF-8 is a
    :class:`SourceError` too."""
    source = str(path)
    limits = _limits(source, limits)
    try:
        with path.open("rb") as stream:
            data = stream.read(limits.max_bytes + 1)
    except OSError as error:
        raise SourceError(
            Location(source, 1, 1), _("cannot read this file: {why}").format(why=error)
        ) from None
    if len(data) > limits.max_bytes:
        size = max(len(data), _size(path))
        raise SourceError(Location(source, 1, 1), _too_large(size, limits))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        before = data[: error.start]
        line = before.count(b"\n") + 1
        column = len(before) - (before.rfind(b"\n") + 1) + 1
        raise SourceError(
            Location(source, line, column),
            _("this file is not UTF-8: byte {byte} cannot be decoded; save it as UTF-8").format(
                byte=f"{data[error.start]:#04x}"
            ),
        ) from None
    return load_yaml_text(text, source, limits)


def _limits(path: str, limits: YamlLimits | None) -> YamlLimits:
    if limits is not None:
        return limits
    try:
        return YamlLimits.from_environment()
    except ValueError as error:
        raise SourceError(Location(path, 1, 1), str(error)) from None


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _too_large(size: int, limits: YamlLimits) -> str:
    return _(
        "this file is refused: it is {size} bytes, more than the {limit} allowed "
        "(the limit is RULECORE_YAML_MAX_BYTES)"
    ).format(size=size, limit=limits.max_bytes)


def _position(text: str, path: str, position: int) -> Location:
    before = text[:position]
    return Location(path, before.count("\n") + 1, position - (before.rfind("\n") + 1) + 1)


def _mark_location(path: str, mark: Any) -> Location:
    return Location(path, mark.line + 1, mark.column + 1) if mark else Location(path, 1, 1)


def _unreadable(error: yaml.reader.ReaderError) -> str:
    character = error.character if isinstance(error.character, int) else ord(error.character)
    name = (
        _("a NUL byte")
        if character == 0
        else _("the character {code}").format(code=f"U+{character:04X}")
    )
    return _("this is not valid YAML: {name} is not allowed here ({reason})").format(
        name=name, reason=error.reason
    )
