"""Reading OneRoster CSV packages (1.1 and 1.2) as OneRoster 1.2 JSON documents.

Why: the store keeps one model (1.2 JSON), so every package is converted on the way in, driven by the column
descriptors of :mod:`standards.csvbinding`; nothing here is per-file code. No Flask and no database: the importer
(gateway/importing.py) adds model validation, reference checks and writing. Writing packages lives in
:mod:`adapters.oneroster_csv_writer`.

    with open_bundle("district.zip") as bundle:       # BundleError: unreadable package, names the file
        for f in bundle.files():                       # present data files, in binding order
            for row in bundle.reader(f.name):          # Row(file, line, sourced_id, status, doc, errors, refs)
                ...

Rows are never dropped silently: a row that cannot be converted carries ``errors`` as (column, reason) pairs.
"""
from __future__ import annotations

import codecs
import csv
import io
import math
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterator

from standards.csvbinding import CsvColumn, CsvFile, load_csv_binding, parse_pairs, split_list
from standards.model import ClassDef, load_model

MANIFEST = "manifest.csv"
MODES = ("absent", "bulk", "delta")
MISSING = "required field missing"
STATUSES = {"active": "active", "tobedeleted": "tobedeleted", "inactive": "tobedeleted"}  # 1.0's inactive
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})", re.ASCII)
_YEAR = re.compile(r"\d{4}", re.ASCII)
_INT = re.compile(r"[+-]?\d+", re.ASCII)
_BAD_ID = re.compile(r"[\s,{}\"]")
_INDEX = re.compile(r"\[\d*\]")
# 1.1 model path -> 1.2 path where only the name changed (1.2 renamed the CSV column gradingPeriodSourcedId to
# academicSessionSourcedId, so both land in LineItem.academicSession and round-trip between the versions).
_RENAMED_11 = {("Resource", "role"): "roles", ("LineItem", "gradingPeriod"): "academicSession"}


class BundleError(Exception):
    """The package or one of its files cannot be read at all; the message starts with the file name."""


def rtype_of(class_name: str) -> str:
    """Record type of a model class: the lowerCamel class name (User -> user)."""
    return class_name[0].lower() + class_name[1:]


def show(value: str) -> str:
    return f"'{value[:40]}…'" if len(value) > 40 else f"'{value}'"


@dataclass(slots=True)
class Row:
    file: str
    line: int
    cells: list
    sourced_id: str = ""
    status: str = "active"
    doc: dict | None = None  # the 1.2 record, or for nested files the element added to the parent
    parent: str | None = None  # nested files: the parent record's sourcedId
    errors: list = field(default_factory=list)  # (column, reason)
    refs: list = field(default_factory=list)  # (column, target type, sourcedId): references still to check


def open_bundle(path) -> "Bundle":
    return Bundle(path)


class Bundle:
    """A package directory or zip with its manifest read and checked against the files present."""

    def __init__(self, path):
        self.path = Path(path)
        self.warnings: list[str] = []
        self._zip: zipfile.ZipFile | None = None
        deeper: list[str] = []
        if self.path.is_dir():
            self.names = {p.name for p in self.path.iterdir() if p.is_file()}
        elif self.path.is_file():
            try:
                self._zip = zipfile.ZipFile(self.path)
            except (zipfile.BadZipFile, OSError, EOFError) as error:
                raise BundleError(f"{self.path.name}: not a readable zip file (truncated or corrupt: {error})") \
                    from None
            self.names = set()
            for info in self._zip.infolist():
                if not info.is_dir() and not info.filename.startswith("__MACOSX/"):
                    (deeper.append if "/" in info.filename else self.names.add)(info.filename)
        else:
            raise BundleError(f"{self.path}: no such file or directory")
        try:
            self._read_manifest(deeper)
        except BundleError:
            self.close()
            raise

    def __enter__(self) -> "Bundle":
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def _read_manifest(self, deeper: list[str]) -> None:
        if MANIFEST not in self.names:
            hint = next((n for n in deeper if n.rsplit("/", 1)[-1] == MANIFEST), None)
            raise BundleError(f"{MANIFEST}: missing" + (
                f" at the zip root (found {hint}; the files must be at the root of the zip)" if hint else
                " (OneRoster 1.1 and 1.2 packages need one; 1.0 packages are not supported)"))
        rows = list(self.csv_rows(MANIFEST))
        if not rows or rows[0][1] != ["propertyName", "value"]:
            found = ",".join(rows[0][1]) if rows else "nothing"
            raise BundleError(f"{MANIFEST}:1: header: expected propertyName,value; found {found}")
        props: dict[str, tuple[int, str]] = {}
        for line, cells in rows[1:]:
            if len(cells) < 2:
                raise BundleError(f"{MANIFEST}:{line}: row: expected propertyName,value")
            props[cells[0].strip().rstrip("*")] = (line, cells[1].strip())  # the spec prints file.roles*
        for key, allowed in (("manifest.version", ("1.0", "1")), ("oneroster.version", ("1.1", "1.2", "1.2.1"))):
            if key not in props:
                raise BundleError(f"{MANIFEST}: {key}: required property missing")
            line, value = props[key]
            if value not in allowed:
                raise BundleError(f"{MANIFEST}:{line}: {key}: {show(value)} is not one of {', '.join(allowed)}")
        self.version = props["oneroster.version"][1][:3]
        self.binding = load_csv_binding(self.version)
        self.manifest = {key: value for key, (_line, value) in props.items()}
        known = {f.manifest_key: f for f in self.binding.files.values()}
        self.modes: dict[str, str] = {}
        for key, (line, value) in props.items():
            if not key.startswith("file."):
                continue
            if value not in MODES:
                raise BundleError(f"{MANIFEST}:{line}: {key}: {show(value)} is not absent, bulk or delta")
            if key in known:
                self.modes[known[key].name] = value
            elif value != "absent":
                raise BundleError(f"{MANIFEST}:{line}: {key}: not a file of OneRoster {self.version}")
        for key, f in known.items():
            if f.name not in self.modes:
                self.warnings.append(f"{MANIFEST}: {key}: missing, taken as absent")
                self.modes[f.name] = "absent"
        for name, mode in self.modes.items():
            if mode != "absent" and name not in self.names:
                raise BundleError(f"{name}: listed as {mode} in {MANIFEST} but not in the package")
            if mode == "absent" and name in self.names:
                raise BundleError(f"{name}: present in the package but marked absent in {MANIFEST}")
        for name in sorted(self.names - set(self.modes) - {MANIFEST}):
            if name.lower().endswith(".csv"):
                raise BundleError(f"{name}: not a file of OneRoster {self.version} (not in {MANIFEST})")

    def files(self) -> list[CsvFile]:
        """The data files present, in binding order."""
        return [f for name, f in self.binding.files.items() if self.modes.get(name, "absent") != "absent"]

    def mode(self, name: str) -> str:
        return self.modes.get(name, "absent")

    def open(self, name: str):
        return self._zip.open(name) if self._zip is not None else open(self.path / name, "rb")

    def csv_rows(self, name: str) -> Iterator[tuple[int, list[str]]]:
        """(first line number, cells) of each non-blank record; UTF-8 with or without BOM."""
        try:
            with self.open(name) as raw:
                reader = csv.reader(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""), strict=True)
                previous = 0
                try:
                    for cells in reader:
                        start, previous = previous + 1, reader.line_num
                        if cells:
                            yield start, cells
                except UnicodeDecodeError:
                    raise BundleError(self._decode_error(name)) from None
                except csv.Error as error:
                    raise BundleError(f"{name}:{reader.line_num}: row: not valid CSV ({error})") from None
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as error:
            raise BundleError(f"{name}: cannot be read (truncated or corrupt: {error})") from None

    def _decode_error(self, name: str) -> str:
        with self.open(name) as raw:
            for number, line in enumerate(raw, 1):
                if number == 1 and line.startswith(codecs.BOM_UTF8):
                    line = line[3:]
                try:
                    line.decode("utf-8")
                except UnicodeDecodeError as error:
                    return (f"{name}:{number}: encoding: not UTF-8 (byte 0x{line[error.start]:02x} at position "
                            f"{error.start + 1}); save the file as UTF-8")
        return f"{name}: encoding: not UTF-8"

    def reader(self, name: str, *, skip=frozenset(), org_types=None) -> "FileReader":
        return FileReader(self, Converter(self.binding.version, self.binding.files[name], self.mode(name),
                                          skip=skip, org_types=org_types))


class FileReader:
    """Converted rows of one data file (iterate once); the header is checked before the first row."""

    def __init__(self, bundle: Bundle, converter: "Converter"):
        self.bundle, self.converter = bundle, converter
        self.rows_read = 0

    def __iter__(self) -> Iterator[Row]:
        name = self.converter.name
        rows = self.bundle.csv_rows(name)
        first = next(rows, None)
        if first is None:
            raise BundleError(f"{name}: empty file (no header row)")
        self.converter.check_header(first[1])
        convert = self.converter.convert
        for line, cells in rows:
            self.rows_read += 1
            yield convert(line, cells)
        if not self.rows_read:
            raise BundleError(f"{name}: no data rows (files without rows are not permitted; mark it absent)")

    def warnings(self) -> list[str]:
        """Notes on the file; `converter.dropped` names the skipped columns that held values."""
        c = self.converter
        notes = []
        if c.extra_cells:
            notes.append(f"{c.name}: {c.extra_cells} row(s) with empty cells beyond the header, ignored")
        return notes + c.notes


class Converter:
    """Turns the cells of one file's rows into 1.2 documents (or nested elements), per the column descriptors."""

    def __init__(self, version: str, f: CsvFile, mode: str, *, skip=frozenset(), org_types=None):
        self.file, self.name, self.mode = f, f.name, mode
        self.root: ClassDef = load_model("oneroster", "1.2")[f.root]
        self.root11 = load_model("oneroster", "1.1")[f.root] if version == "1.1" else None
        self.nest = f.nest
        self.prefix = f.nest["as"] + "." if f.nest else ""
        self.skip, self.dropped, self.notes, self.extra_cells = frozenset(skip), set(), [], 0
        self.org_types = org_types if org_types is not None else {}
        self.role11 = None
        self.wrap: set[str] = set()  # element members built as one object per row, stored as one-item arrays
        self.column_of: dict[str, str] = {"sourcedId": "sourcedId", "status": "status", "metadata": "metadata",
                                          "dateLastModified": "dateLastModified"}
        self.optional = {c.name for c in f.columns if c.required is False}
        self.handlers = [self._handler(c) for c in f.columns]
        self.width = len(self.handlers)

    def column_for(self, path: str) -> str:
        """The CSV column behind a model path ("roles[0].org.type" -> "orgSourcedId")."""
        p = _INDEX.sub("", path)
        while p:
            if p in self.column_of:
                return self.column_of[p]
            p = p.rpartition(".")[0]
        return path or "row"

    def check_header(self, found: list[str]) -> None:
        expected = list(self.file.header)
        extras = found[len(expected):]
        if found[:len(expected)] == expected and len(set(found)) == len(found) and all(
                e.startswith("metadata.") and len(e) > 9 for e in extras):
            for name in extras:
                self.handlers.append(self._metadata(name))
            self.width = len(self.handlers)
            return
        at = next((i for i, (a, b) in enumerate(zip(expected, found)) if a != b), min(len(expected), len(found)))
        if at < len(expected):
            detail = f"column {at + 1} should be '{expected[at]}', found " + (f"'{found[at]}'" if at < len(found)
                                                                            else "nothing")
        else:
            detail = f"'{found[at]}' is neither a OneRoster column nor a metadata.* extension, or repeats a name"
        raise BundleError(f"{self.name}:1: header: {detail}; expected {','.join(expected)} (then optional "
                          f"metadata.* columns); found {','.join(found)}")

    def convert(self, line: int, cells: list[str]) -> Row:
        row = Row(self.name, line, cells)
        if len(cells) != self.width:
            if len(cells) < self.width or any(cells[self.width:]):
                row.sourced_id = cells[0] if cells else ""
                row.errors.append(("row", f"has {len(cells)} fields, the header has {self.width}"))
                return row
            self.extra_cells += 1
        doc: dict = {}
        for handler, value in zip(self.handlers, cells):
            handler(value, doc, row)
        if self.role11 is not None:
            self._roles11(doc, row)
        for key in self.wrap:
            if key in doc:
                doc[key] = [doc[key]]
        if row.doc is None:
            row.doc = doc
        return row

    # -- column handlers: handler(value, doc, row); doc is the record, or the element for nested files
    def _handler(self, c: CsvColumn):
        name, required = c.name, c.required is True
        if name in self.skip:
            dropped = self.dropped

            def drop(v, doc, row):
                if v:
                    dropped.add(name)
            return drop
        if name == "sourcedId":
            setter = self._setter(c, True) if c.kind != "meta" and c.path != "sourcedId" else None
            top = self.nest is None

            def sourced_id(v, doc, row):
                row.sourced_id = v
                if not v:
                    row.errors.append((name, MISSING))
                    return
                if len(v) > 255 or _BAD_ID.search(v):
                    row.errors.append((name, f"{show(v)} is not a valid sourcedId (at most 255 characters; no "
                                             "spaces, commas, braces or quotes)"))
                if top:
                    doc["sourcedId"] = v
                elif setter is not None:
                    setter(v, doc, row)
            return sourced_id
        what = c.meta if c.kind == "meta" else c.path
        if what in ("status", "dateLastModified"):
            return self._delta_column(name, what)
        if what == "key":
            def key(v, doc, row):
                row.parent = v
                if not v:
                    row.errors.append((name, MISSING))
            return key
        if c.kind == "meta":  # no place in the model; references among them are still checked
            target = name[:-len("SourcedId")] if c.format == "GUIDRef" and name.endswith("SourcedId") else None

            def meta(v, doc, row):
                if v and target:
                    row.refs.append((name, target, v))
                elif not v and required:
                    row.errors.append((name, MISSING))
            return meta
        return self._setter(c, required)

    def _delta_column(self, name: str, what: str):
        if self.mode == "bulk":
            def bulk(v, doc, row):
                if v:
                    row.errors.append((name, f"must be blank in a bulk file (found {show(v)})"))
            return bulk
        if what == "status":
            def status(v, doc, row):
                if v in STATUSES:
                    row.status = STATUSES[v]
                else:
                    row.errors.append((name, f"{show(v)} is not active or tobedeleted" if v else
                                       "required in a delta file"))
            return status

        def modified(v, doc, row):
            if not v:
                row.errors.append((name, "required in a delta file"))
            elif not _DATETIME.fullmatch(v) or not _real_datetime(v):
                row.errors.append((name, f"{show(v)} is not a date-time (ISO 8601 with Z)"))
        return modified

    def _metadata(self, column: str):
        key = column[len("metadata."):]
        if self.nest is not None:
            self.notes.append(f"{self.name}: {column}: ignored, nested rows have no metadata")
            return lambda v, doc, row: None

        def meta(v, doc, row):
            if v:
                doc.setdefault("metadata", {})[key] = v
        return meta

    def _setter(self, c: CsvColumn, required: bool):
        """The handler of a column that lands in the document; the common shapes get a direct closure (speed)."""
        name = c.name
        if self.root11 is not None and c.role11:
            self.role11 = load_csv_binding("1.1").role11
            self.column_of.update({"roles": "orgSourcedIds", "roles.org": "orgSourcedIds", "roles.role": "role",
                                   "roles.roleType": "role"})
            slot, convert, target = "\0" + c.role11, (split_list if c.role11 == "org" else None), "org"
            segments = [slot]
        else:
            path = _RENAMED_11.get((self.root.name, c.path), c.path) if self.root11 is not None else c.path
            fd, _ = self.root.field(path)
            self.column_of[path] = name
            rel = path
            if self.nest is not None:  # nested files: paths run from the parent; the element is what `as` holds
                rel = "" if path == self.nest["as"] else path[len(self.prefix):]
            segments = rel.split(".") if rel else []
            for i in range(1, len(segments)):
                if self.root.field(self.prefix + ".".join(segments[:i]))[0].many:
                    if i > 1:
                        raise ValueError(f"{self.name}.{name}: arrays nested deeper than one level")
                    self.wrap.add(segments[0])
            convert, target = self._convert(c, fd), c.ref
        key = segments[0] if len(segments) == 1 else None
        if key is not None and convert is None and c.kind == "ref":
            def ref(v, doc, row):
                if v:
                    doc[key] = {"sourcedId": v, "type": target}
                    row.refs.append((name, target, v))
                elif required:
                    row.errors.append((name, MISSING))
            return ref
        if key is not None and convert is None:
            def plain(v, doc, row):
                if v:
                    doc[key] = v
                elif required:
                    row.errors.append((name, MISSING))
            return plain
        many_refs, is_ref = c.kind == "reflist" or c.role11 == "org", c.kind == "ref"

        def setter(v, doc, row):
            if not v:
                if required:
                    row.errors.append((name, MISSING))
                return
            try:
                value = convert(v) if convert is not None else {"sourcedId": v, "type": target} if is_ref else v
            except ValueError as error:
                row.errors.append((name, str(error)))
                return
            if many_refs:
                row.refs.extend((name, target, item) for item in split_list(v))
            elif is_ref:
                row.refs.append((name, target, v))
            if key is not None:
                doc[key] = value
            elif not segments:
                row.doc = value
            else:
                doc.setdefault(segments[0], {})[segments[1]] = value
        return setter

    def _convert(self, c: CsvColumn, fd):
        """value -> JSON value for one column (None: the value as it is, or a GUIDRef); raises ValueError."""
        kind, target = c.kind, c.ref
        if kind == "ref":
            return None
        if kind == "reflist":
            return lambda v: [{"sourcedId": item, "type": target} for item in split_list(v)]
        if kind == "list":
            return split_list
        if kind == "pairs":
            keys = c.keys
            return lambda v: [dict(zip(keys, pair)) for pair in parse_pairs(v)]
        t = fd.type
        if t in ("number", "integer"):
            return _number(c.format == "Integer" or t == "integer")
        if fd.many:
            return (lambda v: [v]) if self.nest is not None else split_list
        if t == "boolstring":
            return lambda v: low if (low := v.lower()) in ("true", "false") else v
        if t == "datetime" and c.format == "Date":
            return lambda v: v + "T00:00:00Z" if _DATE.fullmatch(v) else v
        if c.format == "Year":
            def year(v):
                if not _YEAR.fullmatch(v):
                    raise ValueError(f"{show(v)} is not a year (YYYY)")
                return v
            return year
        if self.root11 is not None and fd.enum and fd.ext and self.root11.has(c.path):
            only11 = set(self.root11.field(c.path)[0].enum or ()) - set(fd.enum)
            if only11:  # 1.1 terms that 1.2 dropped survive as 1.2 extensions (enrollment role aide -> ext:aide)
                return lambda v: "ext:" + v if v in only11 else v
        return None

    def _roles11(self, doc: dict, row: Row) -> None:
        """1.1 users.csv role + orgSourcedIds -> 1.2 roles[], one primary role per org."""
        role, orgs = doc.pop("\0role", None), doc.pop("\0org", None)
        if role is None or orgs is None:
            return
        mapped = self.role11["map"].get(role, role)
        doc["roles"] = [{"roleType": self.role11["roleType"],
                         "role": "districtAdministrator" if role == "administrator" and self.org_types.get(o) ==
                         "district" else mapped, "org": {"sourcedId": o, "type": "org"}} for o in orgs]


def _number(integer: bool):
    def number(v: str):
        if _INT.fullmatch(v):
            return int(v)
        if integer:
            raise ValueError(f"{show(v)} is not an integer")
        try:
            value = float(v)
        except ValueError:
            raise ValueError(f"{show(v)} is not a number") from None
        if not math.isfinite(value):
            raise ValueError(f"{show(v)} is not a finite number")
        return value
    return number


def _real_datetime(v: str) -> bool:
    try:
        datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


class Nested:
    """Elements from one nested file (roles.csv, classResources.csv, ...) waiting for their parent records."""

    def __init__(self, f: CsvFile):
        self.file, self.key = f, f.nest["as"]
        self.many = load_model("oneroster", "1.2")[f.nest["into"]].fields[self.key].many
        self.group = tuple(c.path.rsplit(".", 1)[-1] for c in f.columns if c.name in f.nest.get("group", ()))
        self.parents: dict[str, list] = {}  # parent sourcedId -> [[element, [(line, cells)]]]

    def add(self, row: Row, cells=None) -> str | None:
        """Queue a converted row; returns a reason when the parent cannot take it."""
        items = self.parents.setdefault(row.parent, [])
        if self.group:
            wanted = tuple(row.doc.get(k) for k in self.group)
            for item in items:
                if tuple(item[0].get(k) for k in self.group) == wanted:
                    for k, v in row.doc.items():
                        if isinstance(v, list):
                            item[0].setdefault(k, []).extend(v)
                    item[1].append((row.line, cells))
                    return None
        elif items and not self.many:
            return f"a second row for '{row.parent}' ({self.key} takes one; first on line {items[0][1][0][0]})"
        items.append([row.doc, [(row.line, cells)]])
        return None

    def attach(self, parent_id: str, doc: dict) -> list | None:
        """Put the parent's queued elements into its document; returns their [(line, cells)] sources."""
        items = self.parents.get(parent_id)  # kept: orphans are found afterwards, and a second pass may re-attach
        if items is None:
            return None
        if not self.many:
            doc[self.key] = items[0][0]
        else:
            values = (doc.get(self.key) or []) + [element for element, _ in items]
            if values and "type" in values[0] and "sourcedId" in values[0]:  # GUIDRefs: users.csv + userResources
                seen: set = set()
                values = [v for v in values if not (v["sourcedId"] in seen or seen.add(v["sourcedId"]))]
            doc[self.key] = values
        return [source for _, sources in items for source in sources]
