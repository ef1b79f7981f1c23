"""Running a compiled mapping: stream every source row through its rules and say, per row, what it produced or why
it was rejected.

Why here and not in the importer: preview, ingest and tests need the same decisions -- filters, ``each`` expansion,
dedupe, validation against the standard's definition, duplicate ids, and references to records produced in this run
(or present in the store, through the ``existing`` callback) -- with no database in sight. The store side
(gateway/ingesting.py) only writes what comes out.

    engine = Engine(plan, inputs)
    for outcome in engine.run():      # one Outcome per row that produced records or failed
        outcome.records               # [(rtype, sourcedId, doc)]; empty when rejected; doc["status"] is
                                      # "active", or "tobedeleted" where the rule's `delete` says so
        outcome.errors                # [(field, reason)]; the place is outcome.place ("students.csv:4")

Memory: sources stream row by row; what grows is one entry per produced id (duplicate and reference checks, as the
CSV importer keeps), the declared lookup tables, and rows waiting for a record of their own type (a parent org listed
after its children).
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Callable, Iterator

import orjson

from .compiler import Plan, Rule
from .errors import MappingError, RowError, SourceError
from .expressions import describe
from .functions import text
from .parameters import bind
from .references import drop_reference
from .sources import Inputs

TICK = 2000
MAX_WARNINGS = 200
_QUOTED = re.compile(r"'[^']*'")
_ROW_SLOTS = 1024  # rule index packed with the line number into one int per produced id
TOBEDELETED = "tobedeleted"


@dataclass(slots=True)
class Outcome:
    rule: str
    source: str
    where: int | str
    records: list
    errors: list
    row: dict | None = None

    @property
    def place(self) -> str:
        return f"{self.source}:{self.where}"


@dataclass
class RuleStats:
    rule: str
    source: str
    cls: str
    read: int = 0
    produced: int = 0
    rejected: int = 0
    filtered: int = 0
    duplicates: int = 0


class Engine:
    """One run of a plan over one set of inputs (iterate :meth:`run` once)."""

    def __init__(self, plan: Plan, inputs: Inputs, *, existing: Callable[[str], set] | None = None,
                 snapshot: bool = True, now: str = "1970-01-01T00:00:00.000Z", progress=None, keep_rows=False,
                 params: dict | None = None):
        self.plan, self.inputs, self.existing_fn, self.snapshot = plan, inputs, existing, snapshot
        self.params = params
        self.now, self.progress, self.keep_rows = now, progress, keep_rows
        self.covered = set(plan.covered)
        self.seen: dict[str, dict] = defaultdict(dict)  # rtype -> sourcedId -> packed place
        self.rejected: dict[str, dict] = defaultdict(dict)  # rtype -> sourcedId -> place
        self.waiting: dict[str, dict] = defaultdict(dict)  # rtype -> sourcedId -> place, rows in `pending`
        self.stats = {r.name: RuleStats(r.name, plan.sources[r.source].label, r.cls) for r in plan.rules}
        self.source_rows: dict[str, int] = {}
        self.reasons: Counter = Counter()
        self.warnings: list[str] = []
        self.warnings_omitted = 0
        self._existing: dict[str, set] = {}
        self._labels: list[str] = [self.plan.sources[r.source].label for r in plan.rules]

    # -- places
    def _pack(self, index: int, where) -> int | str:
        return where * _ROW_SLOTS + index if type(where) is int else f"{self._labels[index]}:{where}"

    def place(self, packed) -> str:
        if type(packed) is str:
            return packed
        return f"{self._labels[packed % _ROW_SLOTS]}:{packed // _ROW_SLOTS}"

    def release(self) -> None:
        """Forget the run's ids once its checks are over: a million of them need not sit beside the store's last work."""
        self.seen, self.rejected, self.waiting, self._existing = defaultdict(dict), defaultdict(dict), defaultdict(dict), {}

    def warn(self, message: str) -> None:
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(message)
        else:
            self.warnings_omitted += 1

    # -- the run
    def check_inputs(self) -> None:
        """Every non-optional source used by the mapping is present (else one SourceError naming them all)."""
        used = {r.source for r in self.plan.rules} | {t.source for t in self.plan.lookups.values()}
        only = self.inputs.kind == "file" and len(used) == 1
        missing = []
        for name in sorted(used):
            source = self.plan.sources[name]
            source.reset()
            source.only, source.optional_columns = only, self.plan.optional_columns[name]
            if source.spec.file and not self.inputs.exists(source.spec.file, only):
                if source.spec.options.get("optional"):
                    self.warn(f"{source.label}: not in {self.inputs.path} (optional source): no rows")
                else:
                    missing.append(source.label)
        if missing:
            raise SourceError(f"{', '.join(missing)}: not found in {self.inputs.path}")

    def present(self, name: str) -> bool:
        """Whether the named source is in the inputs (a source without a file, e.g. an API, always is)."""
        source = self.plan.sources[name]
        return not source.spec.file or self.inputs.exists(source.spec.file, source.only)

    def run(self) -> Iterator[Outcome]:
        if self.plan.rules and len(self.plan.rules) >= _ROW_SLOTS:
            raise MappingError(f"more than {_ROW_SLOTS - 1} record rules", self.plan.document.path)
        bind(self.plan.parameters or {}, self.params, self.plan.document.path)
        self.check_inputs()
        for table in self.plan.lookups.values():
            self._fill(table)
        pending: list = []
        for index, rule in enumerate(self.plan.rules):
            if self.present(rule.source):
                yield from self._rule(index, rule, pending)
            last = index + 1 == len(self.plan.rules) or self.plan.rules[index + 1].rtype != rule.rtype
            if last and pending:
                yield from self._resolve(rule.rtype, pending)
                pending = []
        for source in self.plan.sources.values():
            for note in dict.fromkeys(source.notes):
                self.warn(note)
            source.notes.clear()

    def _rows(self, source_name: str, task: str):
        source = self.plan.sources[source_name]
        total = source.prepare(self.inputs)
        wanted = self.plan.columns[source_name]
        progress, count = self.progress, 0
        for count, item in enumerate(source.rows(self.inputs, wanted), 1):
            if progress is not None and not count % TICK:
                progress(task, count, total)
            yield item
        if progress is not None:
            progress(task, count, total)
        self.source_rows[source.label] = max(self.source_rows.get(source.label, 0), count)

    def _fill(self, table) -> None:
        label = self.plan.sources[table.source].label
        table.clear()
        if not self.present(table.source):
            return
        for where, row, problem in self._rows(table.source, f"{label} (lookup {table.name})"):
            if problem is not None:
                continue
            try:
                if table.filter is not None and not table.filter(row, None):
                    continue
                key = table.key(row, None)
                if key is None or key == "":
                    continue
                warning = table.add(key if type(key) is str else text(key), row, f"{label}:{where}")
                if warning:
                    self.warn(warning)
            except Exception as error:  # noqa: BLE001 - a lookup row that cannot be computed is skipped, with a note
                reason = error.message if isinstance(error, MappingError) else describe(error)
                self.warn(f"{label}:{where}: lookup {table.name}: row skipped ({reason})")

    def _rule(self, index: int, rule: Rule, pending: list) -> Iterator[Outcome]:
        """The hot loop: one source row -> its records (or its errors). Locals only, no per-row allocations beyond
        the document and the outcome."""
        stats = self.stats[rule.name]
        label = self._labels[index]
        rtype, build, validate = rule.rtype, rule.build, rule.validate
        refs = [(path, get, target, self.seen[target]) for path, get, target in rule.refs]
        filter_, each, dedupe = rule.filter, rule.each, rule.dedupe
        item_filter, delete, optional = rule.item_filter, rule.delete, rule.optional_refs
        seen, keep_rows, now, name = self.seen[rtype], self.keep_rows, self.now, rule.name
        waiting_ids = self.waiting[rtype]
        keys: dict = {}
        source = self.plan.sources[rule.source]
        total = source.prepare(self.inputs)
        task = f"{label} -> {rule.cls}" + (f" ({rule.name})" if rule.name != rtype else "")
        progress, read, produced = self.progress, 0, 0
        single = (None,)
        try:
            for where, row, problem in source.rows(self.inputs, self.plan.columns[rule.source]):
                read += 1
                if progress is not None and not read % TICK:
                    progress(task, read, total)
                if problem is not None:
                    yield self._reject(stats, rule, label, where, row, [("row", problem)], ())
                    continue
                errors: list = []
                if filter_ is not None or each is not None:
                    try:
                        if filter_ is not None and not filter_(row, None):
                            stats.filtered += 1
                            continue
                        items = single if each is None else each(row, None)
                    except Exception as error:  # noqa: BLE001 - never a traceback for a row
                        part = "filter" if each is None else "each"
                        yield self._reject(stats, rule, label, where, row, [(part, _reason(error))], ())
                        continue
                    if each is not None:
                        items = [i for i in (items if type(items) is list else [items]) if i is not None and i != ""]
                else:
                    items = single
                records, waiting = [], False
                for item in items:
                    deleted = False
                    if item_filter is not None or delete is not None:
                        try:
                            if item_filter is not None and not item_filter(row, item):
                                continue
                            deleted = delete is not None and bool(delete(row, item))
                        except Exception as error:  # noqa: BLE001
                            errors.append(("item_filter" if delete is None else "delete", _reason(error)))
                            break
                    doc = build(row, item, errors)
                    sid = doc.get("sourcedId")
                    if deleted:  # a deletion needs only its id: other fields are left out
                        errors = [e for e in errors if e[0] == "sourcedId"] if sid else \
                            errors or [("sourcedId", "required field missing")]
                    if errors:
                        if type(sid) is str:
                            records.append((rtype, sid, doc))  # references to this id will say it was rejected
                        break
                    if dedupe is not None:
                        verdict = self._dedupe(rule, keys, dedupe, row, item, doc, index, where, errors)
                        if verdict is not None:
                            if verdict == "skip":
                                stats.duplicates += 1
                                continue
                            break
                    doc["status"] = TOBEDELETED if deleted else "active"
                    doc["dateLastModified"] = now
                    if sid in seen or sid in waiting_ids or (records and any(r[1] == sid for r in records)):
                        first = self.place(seen[sid]) if sid in seen else waiting_ids.get(sid, f"{label}:{where}")
                        errors.append(("sourcedId", f"duplicate '{sid}' (first at {first})"))
                        break
                    if not deleted:  # a deletion is neither validated nor checked for references
                        errors.extend(validate(doc))
                    if not errors and not deleted:
                        dropped = False
                        for path, get, target, known in refs:
                            for ref in get(doc):
                                if ref in known:
                                    continue
                                problem = self._ref_problem(target, ref, rtype)
                                if problem == "wait":
                                    waiting = True
                                elif problem and path in optional:
                                    dropped = drop_reference(doc, path, ref)
                                    self.warn(f"{label}:{where}: {path}: {problem}; the optional reference is "
                                              "dropped")
                                elif problem:
                                    errors.append((path, problem))
                        if dropped:
                            errors.extend(validate(doc))
                    if sid:
                        records.append((rtype, sid, doc))  # a rejected row's id: references to it say so
                    if errors:
                        break
                if errors:
                    yield self._reject(stats, rule, label, where, row, errors, records)
                    continue
                if not records:
                    continue
                if waiting:
                    pending.append((index, rule, Outcome(name, label, where, records, [], row)))
                    for _t, sid, _d in records:
                        waiting_ids[sid] = f"{label}:{where}"
                    continue
                packed = where * _ROW_SLOTS + index if type(where) is int else f"{label}:{where}"
                for _t, sid, _d in records:
                    seen[sid] = packed
                produced += len(records)
                yield Outcome(name, label, where, records, [], row if keep_rows else None)
        finally:
            stats.read += read
            stats.produced += produced
            if progress is not None:
                progress(task, read, total)
            self.source_rows[source.label] = max(self.source_rows.get(source.label, 0), read)

    def _dedupe(self, rule: Rule, keys: dict, dedupe, row, item, doc, index, where, errors) -> str | None:
        """None: first of its key; 'skip': a later duplicate (warned when it differs); 'error': rejected."""
        try:
            key = dedupe(row, item)
        except Exception as error:  # noqa: BLE001
            errors.append(("dedupe", _reason(error)))
            return "error"
        if type(key) in (list, dict):  # [a, b] keys: compared by value
            key = orjson.dumps(key, option=orjson.OPT_SORT_KEYS).decode()
        # The document's digest only serves keep: first, to warn when a skipped duplicate differs.
        digest = None if rule.keep == "error" else hash(orjson.dumps(doc, option=orjson.OPT_SORT_KEYS))
        first = keys.get(key)
        if first is None:
            keys[key] = (self._pack(index, where), digest)
            return None
        if rule.keep == "error":
            errors.append(("dedupe", f"duplicate key {key!r} (first at {self.place(first[0])})"))
            return "error"
        if first[1] != digest:
            self.warn(f"{self._labels[index]}:{where}: duplicate {key!r} in {rule.name}, values differ from "
                      f"{self.place(first[0])}; the first row is kept")
        return "skip"

    def _stored(self, target: str) -> set | None:
        if self.existing_fn is None:
            return None
        if target not in self._existing:
            self._existing[target] = self.existing_fn(target)
        return self._existing[target]

    def _ref_problem(self, target: str, ref: str, rtype: str) -> str | None:
        if ref in self.seen[target]:
            return None
        where = self.rejected[target].get(ref)
        if where:
            return f"depends on rejected {target} '{ref}' ({where})"
        if target == rtype:
            return "wait"  # may come later in the same type's rows
        if target in self.covered and (self.snapshot or self.existing_fn is None):
            return f"unknown {target} '{ref}'"
        existing = self._stored(target)
        if existing is None or ref in existing:
            return None
        return f"unknown {target} '{ref}'"

    def _resolve(self, rtype: str, pending: list) -> Iterator[Outcome]:
        """Rows waiting for a record of their own type: accept what resolves (in any order), reject the rest."""
        seen, waiting = self.seen[rtype], self.waiting[rtype]
        store = self._stored(rtype) if self.existing_fn is not None and not self.snapshot else None
        changed = True
        while changed:
            changed = False
            for entry in list(pending):
                _index, rule, outcome = entry
                problems = []
                for _t, _sid, doc in outcome.records:
                    dropped = False
                    for path, get, target in rule.refs:
                        for ref in get(doc) if target == rtype else ():
                            if ref in seen or ref in waiting or (store and ref in store):
                                continue
                            if path in rule.optional_refs:
                                dropped = drop_reference(doc, path, ref)
                                self.warn(f"{outcome.place}: {path}: {self._self_problem(rtype, ref)}; the optional "
                                          "reference is dropped")
                            else:
                                problems.append((path, self._self_problem(rtype, ref)))
                    if dropped:
                        problems.extend(rule.validate(doc))
                if problems:
                    pending.remove(entry)
                    for _t, sid, _d in outcome.records:
                        waiting.pop(sid, None)
                    yield self._reject(self.stats[rule.name], rule, outcome.source, outcome.where, outcome.row,
                                       problems, outcome.records)
                    changed = True
        for index, rule, outcome in pending:
            packed = self._pack(index, outcome.where)
            for _t, sid, _d in outcome.records:
                seen[sid] = packed
                waiting.pop(sid, None)
            self.stats[rule.name].produced += len(outcome.records)
            if not self.keep_rows:
                outcome.row = None
            yield outcome

    def _self_problem(self, rtype: str, ref: str) -> str:
        where = self.rejected[rtype].get(ref)
        return f"depends on rejected {rtype} '{ref}' ({where})" if where else f"unknown {rtype} '{ref}'"

    def _reject(self, stats: RuleStats, rule: Rule, label: str, where, row, errors, records) -> Outcome:
        stats.rejected += 1
        place = f"{label}:{where}"
        for _t, sid, _d in records:
            self.rejected[rule.rtype].setdefault(sid, place)
        for field, reason in errors:
            self.reasons[f"{rule.cls}.{field}: {_QUOTED.sub('…', reason)}"] += 1
        return Outcome(rule.name, label, where, [], errors, row)


def _reason(error: Exception) -> str:
    return error.message if isinstance(error, RowError) else describe(error)
