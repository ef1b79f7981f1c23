"""Exporting a district as a OneRoster CSV bulk package (1.2 or 1.1).

Why: districts and vendors exchange CSV packages, and a package we write must read back through the importer
unchanged; so it is built from the same binding tables (adapters.oneroster_csv_writer), streams the store type by
type in sourcedId order, and holds only active records.
"""
from __future__ import annotations

from collections import defaultdict

import orjson
from sqlalchemy import Engine, select

from adapters.oneroster_csv import rtype_of
from adapters.oneroster_csv_writer import SKIPPED, DocWriter, PackageWriter
from gateway.auth.registry import district_exists
from gateway.storage.records import ACTIVE, render_base
from gateway.storage.tables import records
from standards.csvbinding import load_csv_binding

VERSIONS = ("1.1", "1.2")


class ExportError(Exception):
    """The export cannot start (unknown district or version)."""


def export_bundle(engine: Engine, district: str, version: str, out_path) -> dict[str, int]:
    """Write the district's active records to ``out_path`` (.zip or directory); returns data rows per file."""
    if version not in VERSIONS:
        raise ExportError(f"unknown OneRoster version {version!r}; use 1.1 or 1.2")
    binding = load_csv_binding(version)
    by_type = defaultdict(list)
    for f in binding.files.values():
        if f.name not in SKIPPED:
            by_type[rtype_of(f.root)].append(f)
    with engine.connect() as conn:
        if not district_exists(conn, district):
            raise ExportError(f"unknown district {district!r}")
        active = (records.c.tenant == district, records.c.status == ACTIVE)
        class_school = dict(conn.execute(select(records.c.sourced_id, records.c.org_ref).where(
            *active, records.c.type == "class")).all())
        package = PackageWriter(out_path, version)
        try:
            for rtype, files in by_type.items():
                writers = []
                for f in files:
                    keys = _metadata_keys(conn, district, rtype) if f.nest is None else ()
                    writer = DocWriter(version, f, keys, class_school)
                    package.open(f.name, writer.header)
                    writers.append(writer)
                query = select(records.c.sourced_id, records.c.status, records.c.date_last_modified,
                               records.c.doc).where(*active, records.c.type == rtype).order_by(records.c.sourced_id)
                for row in conn.execute(query.execution_options(yield_per=2000)):
                    doc = render_base(row)
                    for writer in writers:
                        package.write(writer.file.name, writer.rows(doc))
            return package.close()
        except BaseException:
            package.abort()
            raise


def _metadata_keys(conn, district: str, rtype: str) -> list[str]:
    """Extension keys used by any active record of a type: they become metadata.* columns at the right."""
    keys: set[str] = set()
    query = select(records.c.doc).where(records.c.tenant == district, records.c.type == rtype,
                                        records.c.status == ACTIVE, records.c.doc.like('%"metadata":{%'))
    for (doc,) in conn.execute(query):
        meta = orjson.loads(doc).get("metadata")
        if isinstance(meta, dict):
            keys.update(meta)
    return sorted(keys)
