"""Writing OneRoster CSV packages (1.2 or 1.1) from the store's OneRoster 1.2 JSON documents.

Why: exports must read back unchanged, so every cell is produced by inverting the same column descriptors the reader
uses (standards.csvbinding): import -> export -> import changes nothing. Bulk packages only: status and
dateLastModified stay blank, files without rows are declared absent. Nested arrays (roles[], userProfiles[],
resources[], learningObjectiveSet[], scoreScale) go to their own files with generated row ids, since the JSON model
has no place for the original ones.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from adapters.oneroster_csv import _RENAMED_11, MANIFEST
from standards.csvbinding import CsvColumn, CsvFile, load_csv_binding
from standards.model import load_model

# 1.2 user roles without a 1.1 counterpart are written as the nearest 1.1 role (as the 1.1 REST API shows them).
V11_ROLES = {"districtAdministrator": "administrator", "siteAdministrator": "administrator",
             "systemAdministrator": "administrator", "principal": "administrator", "counselor": "administrator"}
# Files the exporter never writes: users.csv resourceSourcedIds already carries the same references.
SKIPPED = {"userResources.csv"}
_FALLBACK = {"gradingPeriod": "academicSession", "academicSession": "gradingPeriod"}  # LineItem: 1.1 vs 1.2 name


def cell(value) -> str:
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (dict, list)):  # structured metadata set through the API
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def _date(value) -> str:
    """A JSON date-time written to a CSV Date column: the date when it is midnight UTC (as import widened it)."""
    text = cell(value)
    head, _, tail = text.partition("T")
    return head if tail in ("00:00:00Z", "00:00:00.000Z") else text


class DocWriter:
    """The CSV rows of one file for one stored record (nested files: one row per array element)."""

    def __init__(self, version: str, f: CsvFile, metadata_keys=(), class_school=None):
        self.file, self.version = f, version
        self.root = load_model("oneroster", "1.2")[f.root]
        self.enums11 = load_model("oneroster", "1.1").classes.get(f.root) if version == "1.1" else None
        self.metadata_keys = tuple(metadata_keys) if f.nest is None else ()
        self.header = f.header + tuple("metadata." + k for k in self.metadata_keys)
        self.class_school = class_school or {}
        self.key = f.nest["as"] if f.nest else None
        self.expand = None  # the member of a nested element that yields one row per item
        if f.nest:
            for c in f.columns:
                if c.path and c.path.startswith(self.key + "."):
                    first = c.path.split(".")[1]
                    if self.root.field(f"{self.key}.{first}")[0].many:
                        self.expand = first
        self.stem = f.name[:-4]
        self.getters = [self._getter(c) for c in f.columns]

    def rows(self, doc: dict) -> list[list[str]]:
        if self.key is None:
            meta = doc.get("metadata") or {}
            return [[get(doc, doc, None, 0) for get in self.getters] + [cell(meta.get(k)) for k in self.metadata_keys]]
        value = doc.get(self.key)
        elements = value if isinstance(value, list) else ([value] if value else [])
        out, index = [], 0
        for element in elements:
            items = (element.get(self.expand) or [None]) if self.expand else [None]
            if self.expand == "credentials":
                items = items[:1]  # one credential per userProfiles row: the row id is the profile id
            for item in items:
                index += 1
                out.append([get(doc, element, item, index) for get in self.getters])
        return out

    def _getter(self, c: CsvColumn):
        what = c.meta if c.kind == "meta" else c.path
        if what in ("status", "dateLastModified"):  # bulk package
            return lambda doc, el, item, i: ""
        if what == "key":
            return lambda doc, el, item, i: doc["sourcedId"]
        if what == "sourcedId":
            if self.key is None:
                return lambda doc, el, item, i: doc["sourcedId"]
            stem = self.stem
            return lambda doc, el, item, i: f"{doc['sourcedId']}-{stem}-{i}"
        if c.kind == "meta" and c.name == "orgSourcedId":  # scoreScales: the class's school
            school = self.class_school
            return lambda doc, el, item, i: school.get((doc.get("class") or {}).get("sourcedId"), "")
        if c.kind == "meta":  # link titles, userResources context: not kept in the model
            return lambda doc, el, item, i: ""
        if c.role11:
            return self._role11(c.role11)
        path = c.path
        if self.version == "1.1":
            path = _RENAMED_11.get((self.root.name, path), path)
        read = self._reader(path)
        fmt = self._formatter(c, path)
        return lambda doc, el, item, i: fmt(read(doc, el, item))

    def _reader(self, path: str):
        """(doc, element, item) -> the JSON value behind a column."""
        if self.key is None:
            other = _FALLBACK.get(path) if self.root.name == "LineItem" else None
            if other:
                return lambda doc, el, item: doc.get(path) or doc.get(other)
            return lambda doc, el, item: doc.get(path)
        if path == self.key:
            return lambda doc, el, item: el
        rel = path[len(self.key) + 1:].split(".")
        if rel[0] == self.expand:
            if len(rel) == 1:
                return lambda doc, el, item: item
            member = rel[1]
            return lambda doc, el, item: item.get(member) if item else None
        member = rel[0]
        return lambda doc, el, item: el.get(member)

    def _formatter(self, c: CsvColumn, path: str):
        if c.kind == "ref":
            return lambda v: v.get("sourcedId", "") if isinstance(v, dict) else ""
        if c.kind == "reflist":
            return lambda v: ",".join(r.get("sourcedId", "") for r in v or ())
        if c.kind == "list":
            return lambda v: ",".join(map(cell, v or ()))
        if c.kind == "pairs":
            a, b = c.keys
            return lambda v: ",".join(f"{{{p.get(a, '')}:{p.get(b, '')}}}" for p in v or ())
        if c.format == "Date":
            return _date
        if self.enums11 is not None and self.enums11.has(c.path):
            allowed = set(self.enums11.field(c.path)[0].enum or ())
            if allowed:  # 1.1 terms kept as 1.2 extensions on import go back to the plain term
                def term(v):
                    text = ",".join(map(cell, v)) if isinstance(v, list) else cell(v)
                    return text[4:] if text.startswith("ext:") and text[4:] in allowed else text
                return term
        return lambda v: ",".join(map(cell, v)) if isinstance(v, list) else cell(v)

    @staticmethod
    def _role11(which: str):
        def roles(doc):
            values = [r for r in doc.get("roles") or () if isinstance(r, dict)]
            return sorted(values, key=lambda r: r.get("roleType") != "primary")  # stable: primary roles first
        if which == "role":
            def role(doc, el, item, i):
                values = roles(doc)
                name = values[0].get("role", "") if values else ""
                return V11_ROLES.get(name, name)
            return role

        def orgs(doc, el, item, i):
            seen: list[str] = []
            for r in doc.get("roles") or ():
                org = (r.get("org") or {}).get("sourcedId")
                if org and org not in seen:
                    seen.append(org)
            return ",".join(seen)
        return orgs


class PackageWriter:
    """Writes the files of one bulk package into a directory, or a .zip with the files at its root."""

    def __init__(self, out, version: str, system_name: str = "Trellis"):
        self.out, self.version, self.system_name = Path(out), version, system_name
        self.binding = load_csv_binding(version)
        self.zip = self.out.suffix.lower() == ".zip"
        if self.zip:
            self.out.parent.mkdir(parents=True, exist_ok=True)
            self.dir = Path(tempfile.mkdtemp(prefix=".trellis-export-", dir=self.out.parent))
        else:
            self.out.mkdir(parents=True, exist_ok=True)
            self.dir = self.out
        self._open: dict[str, tuple] = {}
        self.counts: dict[str, int] = {}

    def open(self, name: str, header) -> None:
        handle = open(self.dir / name, "w", newline="", encoding="utf-8")
        writer = csv.writer(handle)
        writer.writerow(header)
        self._open[name] = (handle, writer)
        self.counts[name] = 0

    def write(self, name: str, rows: list[list[str]]) -> None:
        if rows:
            self._open[name][1].writerows(rows)
            self.counts[name] += len(rows)

    def close(self) -> dict[str, int]:
        """Finish the package; returns data rows per file written (files without rows are left out)."""
        for handle, _ in self._open.values():
            handle.close()
        written = {name: n for name, n in self.counts.items() if n}
        for name in self.binding.files:
            if name not in written:
                (self.dir / name).unlink(missing_ok=True)
        with open(self.dir / MANIFEST, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(("propertyName", "value"))
            writer.writerow(("manifest.version", "1.0"))
            writer.writerow(("oneroster.version", self.version))
            for f in self.binding.files.values():
                writer.writerow((f.manifest_key, "bulk" if f.name in written else "absent"))
            writer.writerow(("source.systemName", self.system_name))
        if self.zip:
            partial = self.dir / "package.zip"
            with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                for name in [MANIFEST, *written]:
                    archive.write(self.dir / name, name)
            os.replace(partial, self.out)
            shutil.rmtree(self.dir, ignore_errors=True)
        return written

    def abort(self) -> None:
        for handle, _ in self._open.values():
            handle.close()
        if self.zip:
            shutil.rmtree(self.dir, ignore_errors=True)
