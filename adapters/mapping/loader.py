"""Loading mapping files: YAML with the line of every node, ``include`` files merged, checked against the schema.

Why: every mistake in a mapping must be reported as ``file:line: what is wrong``. PyYAML's ``compose`` keeps a mark on
each node; we build plain data from the node tree ourselves and keep, for every path (``("records", "students",
"fields", "givenName")``), the file and line it came from. jsonschema errors carry the path of the offending value,
so each maps back to a line. Duplicate keys (which plain YAML loading silently overwrites) are errors, and alias
expansion is capped (a "billion laughs" YAML file is refused).
"""
from __future__ import annotations

import functools
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from .errors import MappingError, MappingErrors

MAPPINGS_DIR = Path(__file__).resolve().parents[2] / "mappings"
SCHEMA_PATH = MAPPINGS_DIR / "schema.json"
SECTIONS = ("parameters", "sources", "crosswalks", "lookups", "records")
MAX_NODES = 100_000
MAX_BYTES = 2_000_000

Path_ = tuple  # a path into the document: keys and list indexes


@dataclass
class Document:
    """A loaded mapping: merged data plus the (file, line) of every node."""

    path: str
    data: dict
    marks: dict[Path_, tuple[str, int]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    def where(self, *path) -> tuple[str, int | None]:
        """(file, line) of a node; the nearest enclosing node when this one has no mark."""
        path = tuple(path)
        while path:
            if path in self.marks:
                return self.marks[path]
            path = path[:-1]
        return self.marks.get((), (self.path, None))

    def error(self, message: str, *path) -> MappingError:
        file, line = self.where(*path)
        return MappingError(message, file, line)

    @property
    def base_dir(self) -> Path:
        return Path(self.path).parent


@functools.cache
def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@functools.cache
def _validator():
    cls = jsonschema.validators.validator_for(schema())
    return cls(schema())


def load_mapping(path) -> Document:
    """Load a mapping file and its includes; raises MappingError (or MappingErrors) naming file and line."""
    return _load(str(path), ())


def _load(path: str, stack: tuple[str, ...]) -> Document:
    real = os.path.realpath(path)
    if real in stack:
        raise MappingError("include cycle: " + " -> ".join([*stack, real]), path)
    data, marks = _read_yaml(path)
    _check_schema(path, data, marks)
    doc = Document(path, data, marks, [path])
    for index, name in enumerate(data.get("include", [])):
        target = os.path.join(os.path.dirname(path), name)
        if not os.path.isfile(target):
            raise doc.error(f"include: no such file {target}", "include", index)
        _merge(doc, _load(target, (*stack, real)), ("include", index))
    return doc


def _merge(doc: Document, other: Document, at: Path_) -> None:
    """Add an included file's sections; a name defined twice is an error naming both places."""
    mine = doc.data.get("target", {})
    theirs = other.data.get("target", {})
    if theirs and {**_TARGET_DEFAULT, **theirs} != {**_TARGET_DEFAULT, **mine}:
        raise other.error(f"target {theirs} differs from {mine or _TARGET_DEFAULT} in {doc.path}", "target")
    for section in SECTIONS:
        for name, value in other.data.get(section, {}).items():
            existing = doc.data.setdefault(section, {})
            if name in existing:
                file, line = doc.where(section, name)
                raise other.error(f"{section}.{name}: already defined at {file}:{line}", section, name)
            existing[name] = value
            for path, mark in other.marks.items():
                if path[:2] == (section, name):
                    doc.marks[path] = mark
    doc.files.extend(other.files)


_TARGET_DEFAULT = {"standard": "oneroster", "version": "1.2"}


def _read_yaml(path: str) -> tuple[Any, dict]:
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise MappingError("no such file", path) from None
    except OSError as error:
        raise MappingError(f"cannot be read ({error.strerror or error})", path) from None
    if len(raw) > MAX_BYTES:
        raise MappingError(f"larger than {MAX_BYTES:,} bytes; a mapping file is configuration, not data", path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[:error.start].count(b"\n") + 1
        raise MappingError(f"not UTF-8 (byte 0x{raw[error.start]:02x})", path, line) from None
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        message = " ".join(str(p) for p in (error.context, error.problem) if p)
        raise MappingError(f"not valid YAML: {message}", path, mark.line + 1 if mark else None) from None
    except yaml.YAMLError as error:
        raise MappingError(f"not valid YAML: {error}", path) from None
    finally:
        loader.dispose()
    if node is None:
        raise MappingError("empty mapping file", path, 1)
    marks: dict[Path_, tuple[str, int]] = {}
    counter = [0]
    data = _build(node, (), path, marks, counter, yaml.SafeLoader(""))
    return data, marks


def _build(node, at: Path_, path: str, marks: dict, counter: list, constructor) -> Any:
    counter[0] += 1
    if counter[0] > MAX_NODES:
        raise MappingError(f"more than {MAX_NODES:,} nodes (aliases expanded); refused", path,
                           node.start_mark.line + 1)
    marks[at] = (path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        constructor.flatten_mapping(node)  # YAML merge keys (<<: *anchor)
        result: dict = {}
        for key_node, value_node in node.value:
            key = constructor.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)) or isinstance(key, bool):
                raise MappingError(f"a key must be text, found {key!r}", path, key_node.start_mark.line + 1)
            key = str(key)
            if key in result:
                raise MappingError(f"duplicate key '{key}' (first at line {marks[(*at, key)][1]})", path,
                                   key_node.start_mark.line + 1)
            marks[(*at, key)] = (path, key_node.start_mark.line + 1)
            result[key] = _build(value_node, (*at, key), path, marks, counter, constructor)
            marks[(*at, key)] = (path, key_node.start_mark.line + 1)  # the key's line is the clearest place
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*at, index), path, marks, counter, constructor) for index, item in enumerate(node.value)]
    try:
        value = constructor.construct_object(node, deep=True)
    except yaml.YAMLError as error:
        raise MappingError(f"bad value: {error}", path, node.start_mark.line + 1) from None
    if hasattr(value, "isoformat"):  # YAML dates: mapping values are text, as sources are
        value = node.value
    return value


def _check_schema(path: str, data: Any, marks: dict) -> None:
    errors = []
    for error in _validator().iter_errors(data):
        at = tuple(error.absolute_path)
        message = error.message
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = error.schema.get("properties", {})
            for key in error.instance:
                if key not in allowed and not _pattern_allows(error.schema, key):
                    known = ", ".join(allowed) if allowed else "none"
                    errors.append(_placed(path, marks, (*at, key), f"{_dotted((*at, key))}: unknown key "
                                                                    f"(allowed here: {known})"))
            continue
        if error.validator in ("oneOf", "anyOf") and error.context:
            best = jsonschema.exceptions.best_match(error.context)
            message = best.message
            at = (*at, *best.relative_path)
        errors.append(_placed(path, marks, at, f"{_dotted(at)}: {message}" if at else message))
    errors.sort(key=lambda e: e.line or 0)
    if errors:
        raise errors[0] if len(errors) == 1 else MappingErrors(errors)


def _pattern_allows(sub: dict, key: str) -> bool:
    return any(re.search(p, key) for p in sub.get("patternProperties", {}))


def _placed(path: str, marks: dict, at: Path_, message: str) -> MappingError:
    probe = at
    while probe and probe not in marks:
        probe = probe[:-1]
    return MappingError(message, path, marks.get(probe, (path, None))[1])


def _dotted(at: Path_) -> str:
    out = ""
    for part in at:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
