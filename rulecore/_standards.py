"""Loading, validating and compiling YAML service standards.

Validation happens in layers, and every problem is reported at ``file:line:col`` in plain
words, all at once rather than one per run:

1. the file is YAML, read safely, with no key written twice;
2. it matches the standard schema (``rulecore/schemas/standard.schema.json``);
3. each rule's check exists (an unknown name lists the closest known ones), its ``params``
   match the check's own schema, and its thresholds and scope make sense;
4. ids are unique: standards across files, rules within a standard.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, cast

import jsonschema

from ._checks import CheckCatalog, CompileContext, CrossRecordCheck, ParamError
from ._conditions import RecordPredicate, compile_scope
from ._i18n import _, localized
from ._schemas import load_schema
from ._service_levels import ServiceLevel, parse_service_level
from ._thresholds import ThresholdMatrix, Thresholds, parse_thresholds
from ._yaml import Document, Location, SourceError, YamlLimits, load_yaml_file

FIXTURE_SUFFIXES = (".test.yaml", ".test.yml")
STANDARD_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Rule:
    """One compiled rule of a standard."""

    id: str
    check: str
    plugin: str
    params: Mapping[str, Any]
    severity: str
    message: str
    thresholds: Thresholds | ThresholdMatrix
    applies: RecordPredicate
    compiled: Any  #: the check's evaluator, or an accumulator factory for a cross-record check
    cross_record: bool
    location: Location
    service_level: ServiceLevel | None = None


@dataclass(frozen=True)
class Standard:
    """One compiled standard."""

    id: str
    version: str
    title: str
    dimension: str
    description: str
    side: str
    applies: RecordPredicate
    rules: tuple[Rule, ...]
    path: str
    abstract: bool = False  #: a template for other standards to extend, not audited itself


class StandardsInvalid(Exception):
    """Raised with every problem found in a set of standards."""

    def __init__(self, errors: Sequence[SourceError]) -> None:
        self.errors = tuple(sorted(errors, key=lambda error: error.location))
        super().__init__("\n".join(str(error) for error in self.errors))


def discover_standard_files(paths: Iterable[Path]) -> list[Path]:
    """The YAML files at ``paths`` (files, or folders searched recursively), sorted.

    Fixture files (``*.test.yaml``) are left out.  Files of every ``kind`` are kept (schedules,
    mappings, waivers): the loader reads each one's ``kind`` to know what it is.
    """
    found: set[Path] = set()
    for path in paths:
        if not path.exists():  # reported once, by the caller
            continue
        if path.is_dir():
            candidates: Iterable[Path] = (p for p in path.rglob("*") if p.is_file())
        else:
            candidates = (path,)
        for candidate in candidates:
            name = candidate.name.lower()
            if name.endswith(FIXTURE_SUFFIXES) or not name.endswith(STANDARD_SUFFIXES):
                continue
            found.add(candidate)
    return sorted(found)


#: Other rulecore files that may sit beside standards, and are not loaded as standards.
OTHER_KINDS = frozenset(("mapping", "waivers"))
KNOWN_KINDS = ("standard", "schedule", *sorted(OTHER_KINDS))


def _unknown_kind(document: Document, kind: str) -> SourceError:
    close = difflib.get_close_matches(kind, KNOWN_KINDS, n=1)
    hint = (
        _("did you mean {name!r}?").format(name=close[0])
        if close
        else _("use one of {names}").format(names=", ".join(KNOWN_KINDS))
    )
    return SourceError(
        document.locate(["kind"]), _("unknown kind {kind!r}; {hint}").format(kind=kind, hint=hint)
    )


def _kind(document: Document) -> str:
    data = document.data
    return str(data.get("kind", "standard")) if isinstance(data, Mapping) else "standard"


def load_documents(paths: Iterable[Path]) -> tuple[list[Document], list[SourceError]]:
    """Every YAML document under ``paths`` (fixtures left out), with the files that failed."""
    documents, errors = [], []
    files = discover_standard_files(paths)
    try:
        limits = YamlLimits.from_environment()
    except ValueError as error:  # said once, not once per file
        where = str(files[0]) if files else "<environment>"
        return [], [SourceError(Location(where, 1, 1), str(error))]
    for path in files:
        try:
            documents.append(load_yaml_file(path, limits))
        except SourceError as error:
            errors.append(error)
    return documents, errors


def compile_schedules(documents: Iterable[Document]) -> tuple[dict[str, Any], list[SourceError]]:
    """The business schedules among ``documents`` (``kind: schedule``), by name."""
    from .clock import parse_schedule

    schedules: dict[str, Any] = {}
    errors: list[SourceError] = []
    for document in documents:
        if _kind(document) != "schedule":
            continue
        problems = list(schema_errors(document, _schedule_file_schema()))
        if problems:
            errors.extend(problems)
            continue
        data = document.data
        name = data["name"]
        if name in schedules:
            errors.append(
                SourceError(
                    document.locate(["name"]),
                    _("schedule {name!r} is defined twice").format(name=name),
                )
            )
            continue
        spec = {key: value for key, value in data.items() if key not in ("kind", "name")}
        try:
            schedules[name] = parse_schedule(name, spec)
        except ValueError as error:
            # A ScheduleError says which key is at fault; locate it there.
            where = list(getattr(error, "path", ()))
            errors.append(SourceError(document.locate(where), str(error)))
    return schedules, errors


def _schedule_file_schema() -> dict[str, Any]:
    # A schedule file is a schedule plus its kind and name.
    schema = dict(load_schema("schedule"))
    schema["properties"] = {
        **schema.get("properties", {}),
        "kind": {"const": "schedule"},
        "name": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]*$"},
    }
    schema["required"] = sorted({*schema.get("required", []), "kind", "name"})
    return schema


def load_standards(paths: Iterable[Path], registry: CheckCatalog) -> tuple[Standard, ...]:
    """Load and compile every standard under ``paths``; raise :class:`StandardsInvalid`.

    Schedules (``kind: schedule`` files) under the same paths are loaded first, so that rules
    can refer to them by name.
    """
    paths = list(paths)
    missing = [path for path in paths if not path.exists()]
    documents, errors = load_documents(paths)
    errors += [
        SourceError(Location(str(path), 1, 1), _("no such file or folder")) for path in missing
    ]
    schedules, schedule_errors = compile_schedules(documents)
    errors += schedule_errors
    standard_documents: list[Document] = []
    for document in documents:
        kind = _kind(document)
        if kind not in OTHER_KINDS and kind not in ("schedule", "standard"):
            errors.append(_unknown_kind(document, kind))
        elif kind == "standard":
            standard_documents.append(document)
    bases = standard_bases(standard_documents)
    compiled: list[Standard] = []
    for document in standard_documents:
        standard, problems = compile_standard(document, registry, schedules, bases)
        errors.extend(problems)
        if standard is not None:
            compiled.append(standard)
    errors.extend(_duplicate_ids(compiled))
    standards = [standard for standard in compiled if not standard.abstract]
    if errors:
        raise StandardsInvalid(errors)
    if not standards and not missing:
        where = ", ".join(str(path) for path in paths)
        raise StandardsInvalid([SourceError(Location(where, 1, 1), _("no standards found here"))])
    return tuple(sorted(standards, key=lambda standard: standard.id))


def standard_bases(documents: Iterable[Document]) -> dict[str, Document]:
    """The standards that others may extend, by id: each one whose id can be read."""
    bases: dict[str, Document] = {}
    for document in documents:
        data = document.data
        if (
            _kind(document) == "standard"
            and isinstance(data, Mapping)
            and isinstance(data.get("id"), str)
        ):
            bases.setdefault(data["id"], document)
    return bases


def _duplicate_ids(standards: Sequence[Standard]) -> Iterator[SourceError]:
    first_seen: dict[str, Standard] = {}
    for standard in standards:
        if standard.id in first_seen:
            yield SourceError(
                Location(standard.path, 1, 1),
                _("standard id {id!r} is already used by {path}").format(
                    id=standard.id, path=first_seen[standard.id].path
                ),
            )
        else:
            first_seen[standard.id] = standard


class _RuleSource(NamedTuple):
    """A rule as it applies, and where to point at when it is wrong."""

    document: Document
    where: tuple[str | int, ...]
    data: Mapping[str, Any]


class _Resolved(NamedTuple):
    """A standard with its inheritance applied."""

    data: dict[str, Any]
    rules: list[_RuleSource]


def _resolve(
    document: Document,
    bases: Mapping[str, Document],
    chain: tuple[str, ...] = (),
) -> tuple[_Resolved | None, list[SourceError]]:
    """Apply ``extends``: the base's keys, then this standard's; its scope, then this one's;
    its rules, with ``overrides`` replacing keys of a rule, then this standard's own rules."""
    data = document.data
    own_rules = [
        _RuleSource(document, ("rules", index), rule)
        for index, rule in enumerate(data.get("rules", []))
    ]
    if "extends" not in data:
        return _Resolved(dict(data), own_rules), []
    base_id = data["extends"]
    base_document = bases.get(base_id)
    if base_id in chain or base_id == data["id"]:
        where = " -> ".join((*chain, data["id"], base_id))
        return None, [
            SourceError(
                document.locate(["extends"]), _("extends goes round: {chain}").format(chain=where)
            )
        ]
    if base_document is None:
        close = difflib.get_close_matches(base_id, sorted(bases), n=1)
        hint = _("; did you mean {name!r}?").format(name=close[0]) if close else ""
        return None, [
            SourceError(
                document.locate(["extends"]),
                _("no standard {id!r} to extend among those loaded{hint}").format(
                    id=base_id, hint=hint
                ),
            )
        ]
    base, errors = _resolve(base_document, bases, (*chain, data["id"]))
    if base is None:
        return None, errors
    merged = {key: value for key, value in base.data.items() if key not in ("abstract", "rules")}
    merged.update(
        (key, value)
        for key, value in data.items()
        if key not in ("extends", "overrides", "rules", "scope")
    )
    scopes = [scope for scope in (base.data.get("scope"), data.get("scope")) if scope]
    if scopes:
        merged["scope"] = [part for scope in scopes for part in _as_list(scope)]
    overrides = data.get("overrides", {})
    inherited = {source.data["id"] for source in base.rules}
    errors = [
        SourceError(
            document.locate_key(["overrides", rule_id]),
            _("the standard {id!r} has no rule {rule!r} to override").format(
                id=base_id, rule=rule_id
            ),
        )
        for rule_id in overrides
        if rule_id not in inherited
    ]
    rules = [
        _RuleSource(document, ("overrides", source.data["id"]), _override(source.data, change))
        if (change := overrides.get(source.data["id"])) is not None
        else source
        for source in base.rules
    ]
    return _Resolved(merged, rules + own_rules), errors


def _as_list(scope: Any) -> list[Any]:
    return list(scope) if isinstance(scope, list) else [scope]


def _override(rule: Mapping[str, Any], change: Mapping[str, Any]) -> dict[str, Any]:
    merged = {**rule, **change}
    if "params" in rule and "params" in change:
        merged["params"] = {**rule["params"], **change["params"]}
    return merged


def compile_standard(
    document: Document,
    registry: CheckCatalog,
    schedules: Mapping[str, Any] | None = None,
    bases: Mapping[str, Document] | None = None,
) -> tuple[Standard | None, list[SourceError]]:
    """Validate and compile one loaded standard; return it (or None) with its problems.

    ``bases`` are the standards it may extend, by id (already checked against the schema).
    """
    errors = list(schema_errors(document, load_schema("standard")))
    if errors:
        return None, errors
    resolved, errors = _resolve(document, bases or {})
    if resolved is None or errors:
        return None, errors
    data = resolved.data
    rules: list[Rule] = []
    seen_rules: set[str] = set()
    for source in resolved.rules:
        rule_data, where = source.data, source.where
        if rule_data["id"] in seen_rules:
            errors.append(
                SourceError(
                    source.document.locate([*where, "id"]),
                    _("rule id {id!r} appears twice in this standard").format(id=rule_data["id"]),
                )
            )
            continue
        seen_rules.add(rule_data["id"])
        rule, problems = _compile_rule(
            source.document, where, rule_data, registry, data["id"], schedules or {}
        )
        errors.extend(problems)
        if rule is not None:
            rules.append(rule)
    try:
        applies = compile_scope(data.get("scope"))
    except ValueError as error:
        errors.append(SourceError(document.locate(["scope"]), str(error)))
    if errors:
        return None, errors
    standard = Standard(
        id=data["id"],
        version=str(data["version"]),
        title=localized(data["title"]),
        dimension=data["dimension"],
        side=data.get("side", "procedural"),
        description=localized(data.get("description")).strip(),
        applies=applies,
        rules=tuple(rules),
        path=document.path,
        abstract=bool(data.get("abstract", False)),
    )
    return standard, []


def _compile_rule(
    document: Document,
    where: tuple[str | int, ...],
    data: Mapping[str, Any],
    registry: CheckCatalog,
    standard_id: str,
    schedules: Mapping[str, Any],
) -> tuple[Rule | None, list[SourceError]]:
    check_name = data["check"]
    entry = registry.checks.get(check_name)
    if entry is None:
        return None, [
            SourceError(document.locate([*where, "check"]), unknown_check(check_name, registry))
        ]
    plugin, check = entry
    params = data.get("params") or {}
    errors = list(
        schema_errors(document, check.params_schema, prefix=[*where, "params"], data=params)
    )
    if errors:
        return None, errors
    zone_spec = data.get("thresholds") or check.default_thresholds
    thresholds: Thresholds | ThresholdMatrix | None = None
    if not zone_spec:
        errors.append(
            SourceError(
                document.locate(list(where)),
                _(
                    "check {check!r} has no default thresholds; give this rule 'thresholds' "
                    "(for example {{desired: 1h, adequate: 4h}})"
                ).format(check=check_name),
            )
        )
    else:
        try:
            thresholds = parse_thresholds(zone_spec, check.unit, check.better)
        except ValueError as error:
            errors.append(SourceError(document.locate([*where, "thresholds"]), str(error)))
        if isinstance(check, CrossRecordCheck) and "by" in zone_spec:
            errors.append(
                SourceError(
                    document.locate([*where, "thresholds", "by"]),
                    _(
                        "check {check!r} looks across records and takes one zone of "
                        "tolerance, not a matrix 'by' an attribute"
                    ).format(check=check_name),
                )
            )
    try:
        applies = compile_scope(data.get("scope"))
    except ValueError as error:
        errors.append(SourceError(document.locate([*where, "scope"]), str(error)))
    service_level = None
    if data.get("service_level"):
        try:
            service_level = parse_service_level(data["service_level"], check.unit, check.better)
        except ValueError as error:
            errors.append(SourceError(document.locate([*where, "service_level"]), str(error)))
        if isinstance(check, CrossRecordCheck) and data["service_level"].get("by"):
            errors.append(
                SourceError(
                    document.locate([*where, "service_level", "by"]),
                    _(
                        "check {check!r} looks across records; its service level is judged "
                        "over the whole population, not 'by' an attribute"
                    ).format(check=check_name),
                )
            )
    try:
        compiled = check.compile(
            params, CompileContext(standard_id, data["id"], schedules, thresholds)
        )
    except ValueError as error:
        at = error.path if isinstance(error, ParamError) else ()
        errors.append(
            SourceError(
                document.locate([*where, "params", *at]),
                _("check {check!r}: {error}").format(check=check_name, error=error),
            )
        )
    except Exception as error:  # the plugin's fault, so name the plugin
        errors.append(
            SourceError(
                document.locate([*where, "check"]),
                _(
                    "check {check!r} from plugin {plugin!r} failed to compile this rule: "
                    "{kind}: {error}"
                ).format(check=check_name, plugin=plugin, kind=type(error).__name__, error=error),
            )
        )
    if errors or thresholds is None:  # no thresholds only ever comes with an error saying why
        return None, errors
    rule = Rule(
        id=data["id"],
        check=check_name,
        plugin=plugin,
        params=params,
        severity=data.get("severity", "major"),
        message=localized(data.get("message"), fallback=False).strip(),
        thresholds=thresholds,
        applies=applies,
        compiled=compiled,
        cross_record=isinstance(check, CrossRecordCheck),
        location=document.locate(list(where)),
        service_level=service_level,
    )
    return rule, []


def unknown_check(name: str, registry: CheckCatalog) -> str:
    """'unknown check' in words, with the closest known names (or all of them)."""
    known = list(registry.checks)
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    if close:
        hint = _("did you mean {names}?").format(names=_(" or ").join(repr(c) for c in close))
    elif known:
        hint = _("known checks: {names}").format(names=", ".join(known))
    else:
        hint = _("no checks are registered (is a plugin blocked or broken? see `rulecore plugins`)")
    return _("unknown check {name!r}; {hint}").format(name=name, hint=hint)


def schema_errors(
    document: Document,
    schema: Mapping[str, Any],
    prefix: Sequence[str | int] = (),
    data: Any = None,
) -> Iterator[SourceError]:
    """Validate ``data`` (default: the whole document) and word each error at its location."""
    target = document.data if data is None and not prefix else data
    validator = jsonschema.Draft202012Validator(schema)
    try:
        errors = sorted(
            validator.iter_errors(target), key=lambda e: list(map(str, e.absolute_path))
        )
    except RecursionError:
        # The YAML depth limit keeps shipped and sensible documents far from this.
        yield SourceError(
            document.locate(prefix),
            _("nested too deeply to validate; lower RULECORE_YAML_MAX_DEPTH or flatten it"),
        )
        return
    for error in errors:
        yield _word_error(document, list(prefix), error)


def _word_error(
    document: Document, prefix: list[str | int], error: jsonschema.ValidationError
) -> SourceError:
    if isinstance(document.data, Mapping) and document.data.get("kind") == "schedule":
        error = _branch_of_its_kind(error)
    if error.context:
        # A oneOf/anyOf failure: the most relevant branch says what is really wrong.
        best = jsonschema.exceptions.best_match(error.context)
        if best is not None and best is not error:
            error = best
    path = prefix + list(error.absolute_path)
    schedule_words = _schedule_words(document, path, error)
    if schedule_words is not None:
        return schedule_words
    validator = error.validator
    schema: Mapping[str, Any] = error.schema if isinstance(error.schema, Mapping) else {}
    expected: Any = error.validator_value
    if validator == "additionalProperties":
        unexpected = _unexpected_keys(schema, error.instance)
        if unexpected:
            allowed = sorted((schema.get("properties") or {}).keys())
            key = unexpected[0]
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = (
                _("; did you mean {name!r}?").format(name=close[0])
                if close
                else (
                    _("; expected one of: {names}").format(names=", ".join(allowed))
                    if allowed
                    else ""
                )
            )
            return SourceError(
                document.locate_key([*path, key]),
                _("unknown key {key!r}{hint}").format(key=key, hint=hint),
            )
    if validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        name = missing[0] if missing else error.message
        return SourceError(
            document.locate(path),
            _("missing required key {name!r}{where}").format(name=name, where=_at(path)),
        )
    if validator == "dependentRequired":
        needed = re.findall(r"'([^']+)' is a dependency of '([^']+)'", error.message)
        if needed:
            wanted, key = needed[0]
            return SourceError(
                document.locate(path),
                _("{key!r} needs {wanted!r} beside it{where}").format(
                    key=key, wanted=wanted, where=_at(path)
                ),
            )
    if validator == "enum":
        options = ", ".join(map(repr, expected))
        return SourceError(
            document.locate(path),
            _("{value!r} is not allowed here; use one of {options}").format(
                value=error.instance, options=options
            ),
        )
    if validator == "type":
        return SourceError(
            document.locate(path),
            _("{what} should be {expected}, not {actual}").format(
                what=_at(path, _("the value")),
                expected=_type_words(expected),
                actual=_json_type(error.instance),
            ),
        )
    if validator == "pattern" and expected == "\\S":
        return SourceError(
            document.locate(path),
            _("{what} must not be empty").format(what=_at(path, _("the value"))),
        )
    if validator == "pattern" and path and path[-1] == "id":
        return SourceError(
            document.locate(path),
            _(
                "{value!r} is not a valid id; use lower-case letters, digits, '.', '_' and '-'"
            ).format(value=error.instance),
        )
    if validator == "not":
        return SourceError(
            document.locate(path),
            _("these keys cannot be combined: {keys}").format(
                keys=", ".join(sorted(map(str, cast(Mapping[str, Any], error.instance))))
            ),
        )
    return SourceError(document.locate(path), error.message)


def _branch_of_its_kind(error: jsonschema.ValidationError) -> jsonschema.ValidationError:
    """Of the branches a schedule's value failed, the first that takes its kind: why it is not.

    best_match would rather say "should be a list" of ``mon-fri: 9am-5pm``, where a range is
    what was meant.
    """
    while error.context:
        kin = [branch for branch in error.context if not _only_of_another_type(branch)]
        if not kin:
            break
        error = kin[0]
    return error


def _only_of_another_type(error: jsonschema.ValidationError) -> bool:
    if error.validator == "type":
        return True
    return bool(error.context) and all(map(_only_of_another_type, error.context))


def _schedule_words(
    document: Document, path: list[str | int], error: jsonschema.ValidationError
) -> SourceError | None:
    """A schedule's day keys, dates and ranges in words: their patterns say nothing to people."""
    if error.validator != "pattern":
        return None
    if "propertyNames" in error.absolute_schema_path and path:
        key = str(error.instance)
        if path[-1] == "hours":
            message = _(
                "hours key {key!r} is not a day; use mon, tue, wed, thu, fri, sat or sun, a "
                "range such as mon-fri, or daily"
            )
        elif path[-1] == "exceptions":
            message = _("exception {key!r} is not a date; write it as YYYY-MM-DD")
        else:
            return None
        return SourceError(document.locate_key([*path, key]), message.format(key=key))
    time_range = load_schema("schedule")["$defs"]["timeRange"]["pattern"]
    if error.validator_value == time_range:
        return SourceError(
            document.locate(path),
            _(
                "{value!r}{where} is not open hours; write a range like 09:00-17:30 (the end "
                "may be 24:00), a list of ranges, or closed"
            ).format(value=error.instance, where=_at(path)),
        )
    return None


def _unexpected_keys(schema: Mapping[str, Any], instance: Any) -> list[str]:
    allowed = set((schema.get("properties") or {}).keys())
    if isinstance(instance, Mapping):
        return sorted(str(key) for key in instance if key not in allowed)
    return []


def _at(path: Sequence[str | int], default: str = "") -> str:
    if not path:
        return default
    words = "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in path)
    return _(" in {path}").format(path=words.lstrip(".")) if not default else words.lstrip(".")


def _type_words(expected: Any) -> str:
    names = [expected] if isinstance(expected, str) else list(expected)
    words = {
        "object": _("a mapping"),
        "array": _("a list"),
        "string": _("text"),
        "integer": _("a whole number"),
        "number": _("a number"),
        "boolean": _("true or false"),
        "null": _("empty"),
    }
    return _(" or ").join(words.get(name, name) for name in names)


def _json_type(value: Any) -> str:
    if isinstance(value, Mapping):
        return _("a mapping")
    if isinstance(value, list):
        return _("a list")
    if isinstance(value, bool):
        return _("true/false")
    if isinstance(value, (int, float)):
        return _("the number {value}").format(value=value)
    if value is None:
        return _("empty")
    return _("the text {value!r}").format(value=value)
