"""The raw import baseline: csv.reader plus executemany of the same rows into the same database.

Each data file goes to a plain table of TEXT columns with no indexes: the cheapest way to get the
bytes into the database, measured in the same run as Trellis's importer so the ratio does not depend on the machine.
"""

from __future__ import annotations

import csv
import os
import time

from sqlalchemy import Engine


def raw_import(engine: Engine, bundle: str) -> tuple[int, float]:
    """Load every data CSV of the bundle into scratch tables; returns (rows, seconds)."""
    rows = 0
    mark = "?" if engine.dialect.paramstyle == "qmark" else "%s"
    start = time.perf_counter()
    with engine.begin() as conn:
        for name in sorted(os.listdir(bundle)):
            if not name.endswith(".csv") or name == "manifest.csv":
                continue
            table = "raw_" + name[:-4]
            with open(os.path.join(bundle, name), newline="", encoding="utf-8-sig") as handle:
                reader = csv.reader(handle)
                header = next(reader)
                columns = ", ".join(f'"{column}" TEXT' for column in header)
                conn.exec_driver_sql(f'DROP TABLE IF EXISTS {table}')
                conn.exec_driver_sql(f'CREATE TABLE {table} ({columns})')
                sql = f"INSERT INTO {table} VALUES ({', '.join([mark] * len(header))})"
                cursor = conn.connection.cursor()  # the DB-API cursor itself: no SQLAlchemy in the loop
                batch = []
                for row in reader:
                    batch.append(row)
                    if len(batch) == 5000:
                        cursor.executemany(sql, batch)
                        rows += len(batch)
                        batch = []
                if batch:
                    cursor.executemany(sql, batch)
                    rows += len(batch)
    elapsed = time.perf_counter() - start
    with engine.begin() as conn:
        for name in os.listdir(bundle):
            if name.endswith(".csv") and name != "manifest.csv":
                conn.exec_driver_sql(f"DROP TABLE IF EXISTS raw_{name[:-4]}")
    return rows, elapsed
