"""Importing OneRoster CSV packages into the store: check everything, write in one transaction.

Why: a district's roster must never be half-applied. A package is atomic by default (one invalid row and nothing is
written, every error is listed); ``skip_invalid`` stores the good rows, writes the rejects with their reasons, and
also rejects rows that depend on a rejected row. Files stream in dependency order (orgs before classes before
enrollments), so references are checked against per-type id sets with no per-row queries, and writes go through
:class:`RecordWriter` in batches (unchanged documents are skipped, so re-importing a package changes nothing).
Credentials (tier-3 fields such as ``password``) are dropped before they reach a document. A record is rebuilt from
its row plus its nested rows (roles.csv, userProfiles.csv, ...) in the same package, so nested rows need their
parent's row. References must resolve within the package, or in the store when the referring file is a delta or the
target's file is absent.
"""
from __future__ import annotations

import csv
import time

from sqlalchemy import Engine, select

from adapters.oneroster_csv import MISSING, BundleError, Nested, open_bundle, rtype_of
from gateway.loading import MAX_ERRORS, TICK, FileStats, ImportReport, Putter, open_rejects, progress_reporter
from gateway.loading import run_transaction
from gateway.storage.records import RecordWriter
from gateway.storage.tables import records
from standards.model import load_model
from standards.validation import compile_validator

__all__ = ["FileStats", "ImportReport", "MAX_ERRORS", "ORDER", "import_bundle"]

# Record types in dependency order: every reference points to an earlier type or to its own type.
ORDER = ("org", "academicSession", "category", "resource", "course", "class", "user", "demographics", "enrollment",
         "scoreScale", "lineItem", "result")
_DELETE_COLUMNS = ("row", "sourcedId", "status", "dateLastModified")


def import_bundle(engine: Engine, path, district: str, *, dry_run: bool = False, skip_invalid: bool = False,
                  rejects_path=None, progress=None) -> ImportReport:
    """Import one package for a district (created if missing). Never raises for bad input: see report.errors."""
    started = time.perf_counter()
    report = ImportReport(str(path), district, dry_run=dry_run)
    try:
        bundle = open_bundle(path)
    except BundleError as error:
        report.error(str(error))
        return report
    rejects = open_rejects(report, rejects_path, str(path).rstrip("/\\") + ".rejects.csv",
                           skip_invalid=skip_invalid, dry_run=dry_run)
    with bundle:
        report.version = bundle.version
        report.warnings.extend(bundle.warnings)

        def body(conn):
            tick = _ticker(progress, bundle)
            _Run(conn, bundle, report, skip_invalid, rejects and csv.writer(rejects), tick).execute()
        run_transaction(engine, report, body, dry_run=dry_run, skip_invalid=skip_invalid, fatal=(BundleError,),
                        rejects=rejects)
    report.seconds = time.perf_counter() - started
    return report


def _ticker(progress, bundle):
    """progress(file, rows done) with the expected rows of each file (physical lines less the header)."""
    progress_fn = progress_reporter(progress)
    if progress_fn is None:
        return None
    totals = {f.name: max(_count_lines(bundle, f.name) - 1, 0) for f in bundle.files()}
    return lambda name, done: progress_fn(name, done, totals.get(name))


def _count_lines(bundle, name: str) -> int:
    """Physical lines of a file: the expected rows for a progress bar, without parsing."""
    lines, last = 0, b"\n"
    with bundle.open(name) as raw:
        while chunk := raw.read(1 << 20):
            lines, last = lines + chunk.count(b"\n"), chunk[-1:]
    return lines + (last != b"\n")


class _Run:
    def __init__(self, conn, bundle, report: ImportReport, skip_invalid: bool, rejects, tick):
        self.conn, self.bundle, self.report, self.tick = conn, bundle, report, tick
        self.skip_invalid, self.rejects = skip_invalid, rejects
        self.writer = RecordWriter(conn, report.district)
        self.model = load_model("oneroster", "1.2")
        self.writing = True  # atomic mode stops writing at the first invalid row (it will be rolled back)
        self._put = Putter(conn, self.writer)
        self.accepted: dict[str, set] = {}
        self.rejected: dict[str, dict[str, str]] = {}  # rtype -> sourcedId -> "file:line"
        self.deleted: dict[str, set] = {}
        self.before: dict[str, set] = {}  # active ids in the store before this package, loaded when needed
        self.lookups: dict[str, set | None] = {}
        self.org_types: dict[str, str] = {}
        self.class_school: dict[str, str | None] = {}
        report.files = {f.name: FileStats(bundle.mode(f.name)) for f in bundle.files()}

    def execute(self) -> None:
        files = self.bundle.binding.files.values()
        for rtype in ORDER:
            parent = next((f for f in files if f.nest is None and rtype_of(f.cls) == rtype
                           and self.bundle.mode(f.name) != "absent"), None)
            nested = [f for f in files if f.nest and rtype_of(f.nest["into"]) == rtype
                      and self.bundle.mode(f.name) != "absent"]
            if parent or nested:
                self._type(rtype, parent, sorted(nested, key=lambda f: f.name != "userProfiles.csv"))
        stats = self.writer.close()
        for rtype, counter in stats.items():
            name = next(f.name for f in files if f.nest is None and rtype_of(f.cls) == rtype)
            for key in ("created", "updated", "unchanged", "deleted"):
                setattr(self.report.files.setdefault(name, FileStats("bulk")), key, counter[key])

    # -- helpers
    def _skip(self, f) -> set[str]:
        root = self.model[f.root]
        return {c.name for c in f.columns if c.path and root.has(c.path) and root.tier(c.path) >= 3}

    def _notes(self, reader, stats: FileStats) -> None:
        """End of a file: final progress tick, warnings."""
        if self.tick:
            self.tick(reader.converter.name, stats.read)
        self.report.warnings.extend(f"{reader.converter.name}: {column}: dropped, credentials are never stored"
                                    for column in sorted(reader.converter.dropped))
        self.report.warnings.extend(reader.warnings())

    def _reject(self, file: str, line: int, cells, errors, stats: FileStats) -> None:
        stats.rejected += 1
        for column, reason in errors:
            self.report.error(f"{file}:{line}: {column}: {reason}")
        if self.rejects is not None:
            self.rejects.writerow([file, line, "; ".join(f"{c}: {r}" for c, r in errors), *(cells or ())])
        if not self.skip_invalid:
            self.writing = False

    def _lookup(self, target: str) -> set | None:
        """Ids a reference to `target` may name (None: cannot be checked), once `target` is complete."""
        if target in self.lookups:
            return self.lookups[target]
        if target == "userProfile":
            return None
        name = next((f.name for f in self.bundle.binding.files.values() if f.nest is None
                     and rtype_of(f.cls) == target), None)
        mode = self.bundle.mode(name) if name else "absent"
        if mode == "bulk":
            ids = self.accepted.get(target, set())
        else:
            ids = self._before(target)
            if mode == "delta":
                ids = (ids | self.accepted.get(target, set())) - self.deleted.get(target, set()) \
                    - self.rejected.get(target, {}).keys()
        self.lookups[target] = ids
        return ids

    def _before(self, rtype: str) -> set:
        if rtype not in self.before:
            self.before[rtype] = self.writer.active_ids(rtype)
        return self.before[rtype]

    def _ref_problem(self, target: str, ref: str) -> str | None:
        ids = self._lookup(target)
        if ids is None or ref in ids:
            return None
        where = self.rejected.get(target, {}).get(ref)
        return f"depends on rejected {target} '{ref}' ({where})" if where else f"unknown {target} '{ref}'"

    def _school_of(self, class_id: str) -> str | None:
        """1.1 line items have no school (required in 1.2): take the class's school."""
        if class_id not in self.class_school:
            self.class_school[class_id] = self.conn.execute(select(records.c.org_ref).where(
                records.c.tenant == self.report.district, records.c.type == "class",
                records.c.sourced_id == class_id)).scalar()
        return self.class_school[class_id]

    # -- one record type: its nested files, then its own file
    def _type(self, rtype: str, parent, nested) -> None:
        mode = self.bundle.mode(parent.name) if parent else "absent"
        if mode == "delta":
            self._before(rtype)
        queues = [self._nested(f) for f in nested]
        if parent is not None:
            seen, rejected, accepted, deletes = self._parent(rtype, parent, mode, queues)
        else:
            seen, rejected, accepted, deletes = {}, {}, set(), []
        for queue, failed in queues:
            self._orphans(rtype, parent, queue, seen, rejected)
        if self.writing and deletes:
            self.writer.tombstone(rtype, deletes)
        if self.writing and mode == "bulk":
            self.writer.tombstone(rtype, sorted(self.writer.active_ids(rtype) - seen.keys()))
        self.accepted[rtype], self.rejected[rtype], self.deleted[rtype] = accepted, rejected, set(deletes)

    def _nested(self, f):
        stats = self.report.files[f.name]
        validate = compile_validator(self.model, f.cls) if f.cls != f.nest["into"] else None
        reader = self.bundle.reader(f.name, skip=self._skip(f))
        conv, queue, failed, seen = reader.converter, Nested(f), {}, {}
        key_column = f.nest["key"]
        profiles = self.lookups.setdefault("userProfile", set()) if f.name == "userProfiles.csv" else None
        for row in reader:
            stats.read += 1
            if self.tick and not stats.read % TICK:
                self.tick(f.name, stats.read)
            errors = row.errors
            if row.sourced_id in seen:
                errors.append(("sourcedId", f"duplicate '{row.sourced_id}' (first on line {seen[row.sourced_id]})"))
            elif row.sourced_id:
                seen[row.sourced_id] = row.line
            if row.status == "tobedeleted":
                errors[:] = [e for e in errors if e[0] in _DELETE_COLUMNS]
                if not errors:
                    continue  # a deleted nested row is simply not part of its parent any more
            if not errors and validate is not None:
                errors.extend((conv.column_for(conv.prefix + p), r) for p, r in validate(row.doc))
            for column, target, ref in row.refs if not errors else ():
                problem = self._ref_problem(target, ref)
                if problem:
                    errors.append((column, problem))
            if not errors:
                problem = queue.add(row, row.cells if self.rejects is not None else None)
                if problem:
                    errors.append((key_column, problem))
            if errors:
                self._reject(f.name, row.line, row.cells, errors, stats)
                if row.parent:
                    failed.setdefault(row.parent, f"{f.name}:{row.line}")
            elif profiles is not None:
                profiles.add(row.sourced_id)
        self._notes(reader, stats)
        return queue, failed

    def _parent(self, rtype: str, f, mode: str, queues):
        stats = self.report.files[f.name]
        validate = compile_validator(self.model, f.cls)
        nested_files = {q.key: q.file.name for q, _ in queues}
        hints = {g.nest["as"]: g.name for g in self.bundle.binding.files.values()
                 if g.nest and g.nest["into"] == f.cls and g.nest["as"] not in nested_files}
        lineitem11 = rtype == "lineItem" and self.bundle.version == "1.1"
        defer = self.skip_invalid and rtype in ("org", "academicSession", "user")  # self references: 2 passes
        seen: dict[str, int] = {}
        rejected: dict[str, str] = {}
        accepted: set[str] = set()
        edges, deletes = [], []
        reader = self.bundle.reader(f.name, skip=self._skip(f), org_types=self.org_types)
        conv, now, lookups = reader.converter, self.writer.now, self.lookups
        for row in reader:
            stats.read += 1
            if self.tick and not stats.read % TICK:
                self.tick(f.name, stats.read)
            sid, errors, doc = row.sourced_id, row.errors, row.doc
            if sid in seen:
                errors.append(("sourcedId", f"duplicate '{sid}' (first on line {seen[sid]})"))
                sid = None  # the first row keeps the id
            elif sid:
                seen[sid] = row.line
            if row.status == "tobedeleted":
                errors[:] = [e for e in errors if e[0] in _DELETE_COLUMNS]  # a delete needs only its id
                if not errors:
                    deletes.append(sid)
                    continue
            if not errors:
                for queue, failed in queues:
                    queue.attach(sid, doc)
                    if sid in failed:
                        errors.append((queue.key, f"depends on rejected row {failed[sid]}"))
                if lineitem11 and "school" not in doc and "class" in doc:
                    school = self._school_of(doc["class"]["sourcedId"])
                    if school:
                        doc["school"] = {"sourcedId": school, "type": "org"}
                doc["status"], doc["dateLastModified"] = "active", now
                for path, reason in validate(doc):
                    column = conv.column_for(path)
                    top = path.split("[", 1)[0].split(".", 1)[0]
                    if reason == MISSING and column in conv.optional:
                        continue  # optional in CSV though required in JSON (orgs identifier, courses courseCode)
                    if top in nested_files and path != top:
                        continue  # reported on the nested file's row
                    if reason == MISSING and path in nested_files:
                        reason += f" (no row for '{sid}' in {nested_files[path]})"
                    elif reason == MISSING and path in hints:
                        reason += f" ({hints[path]} is absent)"
                    errors.append((column, reason))
                if rtype == "demographics":
                    row.refs.append(("sourcedId", "user", sid))
            own = []
            for column, target, ref in row.refs if not errors else ():
                if target == rtype:
                    own.append((column, ref))
                    continue
                ids = lookups[target] if target in lookups else self._lookup(target)
                if ids is not None and ref not in ids:
                    errors.append((column, self._ref_problem(target, ref)))
            if errors:
                self._reject(f.name, row.line, row.cells, errors, stats)
                if sid:
                    rejected[sid] = f"{f.name}:{row.line}"
                continue
            accepted.add(sid)
            if own:
                edges.append((sid, row.line, row.cells, own))
            if rtype == "class":
                self.class_school[sid] = doc["school"]["sourcedId"]
            elif rtype == "org":
                self.org_types[sid] = doc["type"]
            if self.writing and not defer:
                self._put(rtype, sid, doc)
        self._notes(reader, stats)
        self._own_references(rtype, f, mode, edges, accepted, rejected, deletes, stats)
        if defer and self.writing:  # second pass: write what survived the self-reference checks
            for row in self.bundle.reader(f.name, skip=self._skip(f), org_types=self.org_types):
                if row.sourced_id in accepted and seen.get(row.sourced_id) == row.line:
                    for queue, _failed in queues:
                        queue.attach(row.sourced_id, row.doc)
                    self._put(rtype, row.sourced_id, row.doc)
        return seen, rejected, accepted, deletes

    def _own_references(self, rtype, f, mode, edges, accepted, rejected, deletes, stats) -> None:
        """References within one file (org parents, session parents, user agents), until no row fails."""
        base = (self._before(rtype) - set(deletes)) if mode == "delta" else set()
        changed = True
        while changed:
            changed = False
            for sid, line, cells, own in edges:
                if sid not in accepted:
                    continue
                for column, ref in own:
                    if ref in accepted or (ref in base and ref not in rejected):
                        continue
                    where = rejected.get(ref)
                    problem = f"depends on rejected {rtype} '{ref}' ({where})" if where else f"unknown {rtype} '{ref}'"
                    self._reject(f.name, line, cells, [(column, problem)], stats)
                    accepted.discard(sid)
                    rejected[sid] = f"{f.name}:{line}"
                    changed = True
                    break

    def _orphans(self, rtype: str, parent, queue: Nested, seen: dict, rejected: dict) -> None:
        """Nested rows whose parent record is not in the parent file, or was rejected."""
        stats = self.report.files[queue.file.name]
        key = queue.file.nest["key"]
        for parent_id, items in queue.parents.items():
            if parent_id in seen and parent_id not in rejected:
                continue
            if parent_id in rejected:
                problem = f"depends on rejected {rtype} '{parent_id}' ({rejected[parent_id]})"
            elif parent is None:
                problem = f"{rtype} '{parent_id}' cannot be updated: the parent file is absent (nested rows are " \
                          f"applied with their {rtype} record)"
            else:
                problem = f"unknown {rtype} '{parent_id}' (not in {parent.name})"
            for _element, sources in items:
                for line, cells in sources:
                    self._reject(queue.file.name, line, cells, [(key, problem)], stats)
