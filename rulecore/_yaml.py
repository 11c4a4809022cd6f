"""Safe YAML loading that remembers where every value came from.

Standards, schedules, fixtures and mappings are loaded with :class:`SafeLoader` (never the full
loader), keeping the node tree so that a validation error can name ``file:line:col``.
Timestamps are left as strings: rulecore parses time itself, with offsets, and a date in a
scope condition must compare as the text the author wrote.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import yaml


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


class _Loader(yaml.SafeLoader):
    """SafeLoader without implicit timestamps."""


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
                            f"key {key.value!r} appears twice (first on line {first})",
                        )
                    seen[key.value] = key
                stack.append(value)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)


def load_yaml_text(text: str, path: str = "<string>") -> Document:
    """Parse one YAML document safely, keeping locations; raise :class:`SourceError`."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        _check_duplicate_keys(path, node)
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        location = Location(path, mark.line + 1, mark.column + 1) if mark else Location(path, 1, 1)
        raise SourceError(location, f"this is not valid YAML: {error.problem}") from None
    except yaml.YAMLError as error:
        raise SourceError(Location(path, 1, 1), f"this is not valid YAML: {error}") from None
    finally:
        loader.dispose()
    return Document(path, data, node)


def load_yaml_file(path: Path) -> Document:
    """Load a YAML file; a file that cannot be read is a :class:`SourceError` too."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SourceError(Location(str(path), 1, 1), f"cannot read this file: {error}") from None
    return load_yaml_text(text, str(path))
