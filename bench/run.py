"""``make bench``: measure Trellis against baselines taken in the same run, and write docs/benchmarks.md.

Figures (each backend: SQLite file, and PostgreSQL when reachable):
  * import rate of the large synthetic OneRoster 1.2 bundle vs raw csv.reader + executemany of the same rows;
  * one ``/users?limit=100`` page at offset 0 and at the last page (deep/first ratio; target ≤ 1.5);
  * requests/s of ``/users?limit=100`` through gunicorn vs a minimal Flask endpoint serving the same rows
    (target ≥ 40 % of that ceiling), load from wrk (or a threaded Python client) on loopback;
  * peak Python memory while streaming one maximum-size page.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import tracemalloc
from dataclasses import replace

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench import load  # noqa: E402
from bench.baseline import raw_import  # noqa: E402

DISTRICT = "bench"
USERS = "/ims/oneroster/rostering/v1p2/users"
PG_ADMIN = os.environ.get("TRELLIS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def bundle_path(students: int) -> str:
    from gateway.synthetic import LARGE
    from gateway.synthetic import generate_bundle

    size = replace(LARGE, students=students, teachers=max(2, students // 20), classes=max(40, students // 5))
    path = os.path.join(ROOT, "bench", ".data", f"district-{students}")
    if not os.path.exists(os.path.join(path, "manifest.csv")):
        print(f"generating {path} ...", flush=True)
        generate_bundle(path, size, district_id=DISTRICT)
    return path


def database(backend: str) -> str | None:
    from sqlalchemy import create_engine
    from sqlalchemy import make_url
    from sqlalchemy import text

    if backend == "sqlite":
        path = os.path.join(ROOT, "bench", ".data", "bench.db")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
        return "sqlite:///" + path
    try:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with admin.connect() as conn:
            conn.execute(text('DROP DATABASE IF EXISTS "trellis_bench" WITH (FORCE)'))
            conn.execute(text('CREATE DATABASE "trellis_bench"'))
        admin.dispose()
    except Exception as error:  # unreachable server: skip the backend, say why
        print(f"PostgreSQL skipped: {type(error).__name__}: {error}", flush=True)
        return None
    return make_url(PG_ADMIN).set(database="trellis_bench").render_as_string(hide_password=False)


def timed_page(client, headers, url, runs: int = 30) -> float:
    for _ in range(3):
        client.get(url, headers=headers)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url, headers=headers)
        samples.append(time.perf_counter() - start)
        assert response.status_code == 200, response.get_data(as_text=True)[:200]
    return statistics.median(samples) * 1000


ROUNDS = 2  # throughput runs per server, interleaved; the best is kept


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_and_load(module: str, url_path: str, headers: dict, env: dict, seconds: float) -> dict:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
                                module], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}{url_path}"
        for _ in range(300):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        load.run(url, headers, 2, 8)  # warm-up
        return load.run(url, headers, seconds, 8)
    finally:
        process.terminate()
        process.wait(timeout=20)


def measure(backend: str, url: str, bundle: str, seconds: float) -> dict:
    from gateway import create_app
    from gateway.auth.registry import create_app_credentials
    from gateway.auth.registry import ensure_district
    from gateway.importing import import_bundle
    from gateway.storage import migrate
    from gateway.storage.db import make_engine

    engine = make_engine(url)
    migrate.upgrade(engine)
    result: dict = {"backend": backend}
    raw_rows, raw_seconds = raw_import(engine, bundle)
    result["raw_rows_per_s"] = raw_rows / raw_seconds
    start = time.perf_counter()
    report = import_bundle(engine, bundle, DISTRICT)
    elapsed = time.perf_counter() - start
    assert report.ok, report.errors[:5]
    rows = sum(stats.read for stats in report.files.values())
    result.update(rows=rows, import_seconds=elapsed, import_rows_per_s=rows / elapsed)
    start = time.perf_counter()
    import_bundle(engine, bundle, DISTRICT)
    result["reimport_seconds"] = time.perf_counter() - start
    print(f"[{backend}] import {rows} rows in {elapsed:.1f}s; raw baseline {raw_rows} rows in {raw_seconds:.1f}s",
          flush=True)

    app = create_app({"TRELLIS_DATABASE_URL": url, "TRELLIS_DISCLOSURE_LOG": False})  # paging alone
    with engine.begin() as conn:
        ensure_district(conn, DISTRICT)
        creds = create_app_credentials(conn, DISTRICT, "bench", ["roster-core.readonly"])
    client = app.test_client()
    token = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                        auth=(creds.client_id, creds.client_secret)).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    total = int(client.get(USERS + "?limit=1", headers=headers).headers["X-Total-Count"])
    last = (total - 1) // 100 * 100
    result["users"] = total
    result["first_page_ms"] = timed_page(client, headers, USERS + "?limit=100")
    result["last_page_ms"] = timed_page(client, headers, f"{USERS}?limit=100&offset={last}")
    result["sorted_first_ms"] = timed_page(client, headers, USERS + "?limit=100&sort=familyName", runs=5)
    result["sorted_last_ms"] = timed_page(client, headers, f"{USERS}?limit=100&sort=familyName&offset={last}", runs=5)

    max_limit = app.config["TRELLIS_MAX_LIMIT"]
    tracemalloc.start()
    response = client.get(f"{USERS}?limit={max_limit}", headers=headers, buffered=False)
    size = sum(len(chunk) for chunk in response.response)
    result["stream_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
    result["stream_body_mb"] = size / 2**20
    tracemalloc.stop()
    response.close()

    # One app sends hundreds of requests a second: its rate limit is lifted (the limiter's own cost is still paid).
    env = dict(os.environ, TRELLIS_DATABASE_URL=url, BENCH_DISTRICT=DISTRICT, TRELLIS_LOG_LEVEL="WARNING",
               TRELLIS_RATELIMIT_DEFAULT="1000000/second")
    # Each server is measured ROUNDS times, interleaved, and its best run kept: on a shared machine a neighbour's
    # burst only ever lowers a figure, so the best run is the least disturbed one, and the ratios compare like with like.
    runs: dict[str, list[dict]] = {"ceiling": [], "trellis_nolog": [], "trellis": []}
    for _ in range(ROUNDS):
        runs["ceiling"].append(serve_and_load("bench.minimal_app:app", "/users", {}, env, seconds))
        runs["trellis_nolog"].append(serve_and_load("wsgi:app", USERS + "?limit=100", headers,
                                                    dict(env, TRELLIS_DISCLOSURE_LOG="false"), seconds))
        runs["trellis"].append(serve_and_load("wsgi:app", USERS + "?limit=100", headers, env, seconds))
    for key, measured in runs.items():
        result[key] = max(measured, key=lambda run: run["requests_per_s"])
    print(f"[{backend}] pages first {result['first_page_ms']:.2f} ms, last {result['last_page_ms']:.2f} ms; rps "
          f"{result['trellis_nolog']['requests_per_s']:.0f} (log {result['trellis']['requests_per_s']:.0f}) vs "
          f"ceiling {result['ceiling']['requests_per_s']:.0f}", flush=True)
    engine.dispose()
    return result


def measure_mapping(rows: int) -> dict:
    """Ingest a generated Clever export of ``rows`` enrollment rows through mappings/clever into a fresh SQLite file,
    against the raw baseline (csv.reader + executemany of the same files) in the same run."""
    from bench import clever
    from gateway.storage.db import make_engine

    source = os.path.join(ROOT, "bench", ".data", f"clever-{rows}")
    if not os.path.exists(os.path.join(source, "enrollments.csv")):
        print(f"generating {source} ...", flush=True)
        clever.generate(source, rows)
    scratch = os.path.join(ROOT, "bench", ".data", "clever-raw.db")
    target = os.path.join(ROOT, "bench", ".data", "clever-ingest.db")
    for path in (scratch, target):
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
    engine = make_engine("sqlite:///" + scratch)
    raw_rows, raw_seconds = raw_import(engine, source)
    engine.dispose()
    result = clever.measure("sqlite:///" + target, source)
    if not result["committed"]:
        raise RuntimeError(f"the Clever ingest did not commit: {result['errors']}")
    result.update(enrollments=rows, raw_rows_per_s=raw_rows / raw_seconds,
                  rows_per_s=result["rows"] / result["seconds"])
    print(f"[mapping] {result['rows']:,} rows in {result['seconds']:.1f}s ({result['rows_per_s']:,.0f} rows/s), "
          f"peak {result['peak_mb']:.0f} MB; raw {result['raw_rows_per_s']:,.0f} rows/s", flush=True)
    return result


def report(results: list[dict], students: int, command: str, mapping: dict | None = None) -> str:
    lines = ["# Benchmarks", "",
             f"Written by `{command}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.", "",
             f"Machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
             "Every figure is a ratio against a baseline measured in the same run, so it does not depend on the "
             "machine's speed. Targets come from the foundation issue.", "",
             f"Data: the synthetic district of `gateway/synthetic.py` scaled to {students:,} students "
             "(OneRoster 1.2 CSV bundle, bulk).", ""]
    lines += ["## Import", "",
              "| backend | rows | Trellis rows/s | raw csv.reader + executemany rows/s | ratio | re-import (no changes) |",
              "|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['backend']} | {r['rows']:,} | {r['import_rows_per_s']:,.0f} | {r['raw_rows_per_s']:,.0f} "
                     f"| {r['import_rows_per_s'] / r['raw_rows_per_s']:.2f} | {r['reimport_seconds']:.1f} s |")
    lines += ["", "## Paging (`/users?limit=100`, in-process, median of 30)", "",
              "| backend | users | offset 0 | last page | deep / first (target ≤ 1.5) | sorted by familyName: first / last |",
              "|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['backend']} | {r['users']:,} | {r['first_page_ms']:.2f} ms | {r['last_page_ms']:.2f} ms | "
                     f"{r['last_page_ms'] / r['first_page_ms']:.2f} | {r['sorted_first_ms']:.1f} / "
                     f"{r['sorted_last_ms']:.1f} ms |")
    lines += ["", f"## Throughput (gunicorn, 2 sync workers, 8 connections on loopback, best of {ROUNDS} interleaved "
              "runs)", "",
              "Trellis is measured twice: without the disclosure log (`TRELLIS_DISCLOSURE_LOG=false`, the foundation's "
              "figure) and with it (the default: one hash-chained log entry per response that discloses student "
              "data; every `/users` page does).", "",
              "| backend | load tool | minimal Flask endpoint, same rows | Trellis, no log | ratio (target ≥ 0.40) "
              "| Trellis, with log | log / no log (target ≥ 0.50) | non-2xx |", "|---|---|---|---|---|---|---|---|"]
    for r in results:
        t, n, c = r["trellis"], r["trellis_nolog"], r["ceiling"]
        lines.append(f"| {r['backend']} | {t['tool']} | {c['requests_per_s']:,.0f} | {n['requests_per_s']:,.0f} | "
                     f"{n['requests_per_s'] / c['requests_per_s']:.2f} | {t['requests_per_s']:,.0f} | "
                     f"{t['requests_per_s'] / n['requests_per_s']:.2f} | "
                     f"{t['non_2xx'] + n['non_2xx'] + c['non_2xx']} |")
    lines += ["", "## Streaming", "", "| backend | maximum page | body | peak Python memory while streaming |",
              "|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['backend']} | 10,000 users | {r['stream_body_mb']:.1f} MB | {r['stream_peak_mb']:.1f} MB |")
    if mapping is not None:
        m = mapping
        lines += ["", "## Mapping ingest (Clever secure-sync CSV through `mappings/clever`, SQLite)", "",
                  f"A generated Clever export with {m['enrollments']:,} student enrollment rows (and the schools, "
                  "students, teachers and sections they reference) ingested into an empty store in a child process.",
                  "", "| rows read | seconds | Trellis rows/s (target ≥ 30,000) | raw csv.reader + executemany rows/s "
                  "| ratio | peak memory (target < 400 MB) | rejected |", "|---|---|---|---|---|---|---|",
                  f"| {m['rows']:,} | {m['seconds']:.1f} | {m['rows_per_s']:,.0f} | {m['raw_rows_per_s']:,.0f} | "
                  f"{m['rows_per_s'] / m['raw_rows_per_s']:.2f} | {m['peak_mb']:.0f} MB | {m['rejected']} |"]
    lines += ["", "## Reading these figures", "",
              "* Absolute rates depend on the machine and on whatever else runs on it; compare the ratios.",
              "* Import: the raw baseline only copies text into unindexed tables. Trellis validates every row against "
              "the standards definitions, checks references, converts to JSON documents, hashes them for "
              "unchanged-detection and maintains the indexed columns and link rows.",
              "* Paging: deep pages seek from cached anchors (every 1,000th sort key), so the last page costs about "
              "what the first does. Sorting on a field without an indexed column (e.g. `familyName`) sorts the whole "
              "collection on every request.",
              "* Disclosure log: each logged response appends one hash-chained entry in its own transaction; the "
              "parents' lookup index gains a row only for a (student, day, app) not seen before, so an app "
              "re-reading the same roster adds none. Appends are serialised across processes by the chain head.",
              "* Mapping ingest: every produced record is built from its row by compiled expressions, validated "
              "against the standard's definition, reference-checked, and written with its indexed columns. Batches "
              "are written by a second thread while the mapping goes on, and on SQLite a load bigger than the table "
              "rebuilds the secondary indexes before it commits instead of maintaining them "
              "(gateway/storage/bulk.py). The peak is the ingest process's own high-water mark (VmHWM)."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--out", default=os.path.join(ROOT, "docs", "benchmarks.md"))
    parser.add_argument("--mapping-rows", type=int, default=1_000_000,
                        help="Clever enrollment rows for the mapping ingest (0: skip it)")
    args = parser.parse_args(argv)
    bundle = bundle_path(args.students)
    results = []
    for backend in args.backends.split(","):
        url = database(backend)
        if url:
            results.append(measure(backend, url, bundle, args.seconds))
    command = "make bench" if argv is None and len(sys.argv) == 1 else "python bench/run.py " + " ".join(
        argv if argv is not None else sys.argv[1:])
    mapping = measure_mapping(args.mapping_rows) if args.mapping_rows else None
    text = report(results, args.students, command, mapping)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as handle:
        handle.write(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
