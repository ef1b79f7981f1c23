"""A generated Clever secure-sync export for the mapping benchmark, and one measured ingest of it.

The export is deterministic: ``enrollments`` student enrollment rows spread over one student per ten rows, with the
schools, teachers and sections they reference. :func:`measure` ingests it through ``mappings/clever`` into an empty
store in a child process, so the child's peak resident memory is the ingest's own.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHOOLS = 20
PER_STUDENT = 10  # enrollments per student
STUDENTS_PER_SECTION = 25


def generate(directory: str, enrollments: int) -> dict[str, int]:
    """Write schools, students, teachers, sections and enrollments CSVs; returns rows per file."""
    os.makedirs(directory, exist_ok=True)
    students = max(1, enrollments // PER_STUDENT)
    sections = max(PER_STUDENT, enrollments // STUDENTS_PER_SECTION)
    teachers = max(1, sections // 5)
    counts = {}

    def write(name: str, header: list[str], rows) -> None:
        with open(os.path.join(directory, name), "w", newline="", encoding="utf-8") as handle:
            out = csv.writer(handle)
            out.writerow(header)
            count = 0
            for row in rows:
                out.writerow(row)
                count += 1
        counts[name] = count

    write("schools.csv", ["School_id", "School_name", "School_number", "Low_grade", "High_grade"],
          ((f"SCH{s}", f"School {s}", f"{1000 + s}", "9", "12") for s in range(SCHOOLS)))
    write("students.csv", ["School_id", "Student_id", "Student_number", "Last_name", "First_name", "Grade", "Gender",
                           "DOB", "Student_email"],
          ((f"SCH{i % SCHOOLS}", f"S{i}", str(100000 + i), f"Family{i % 997}", f"Given{i % 389}",
            str(9 + i % 4), "MF"[i % 2], f"{1 + i % 12:02d}/{1 + i % 28:02d}/2010", f"s{i}@students.example")
           for i in range(students)))
    write("teachers.csv", ["School_id", "Teacher_id", "Teacher_number", "Teacher_email", "First_name", "Last_name"],
          ((f"SCH{t % SCHOOLS}", f"T{t}", str(t), f"t{t}@example.org", f"Tgiven{t % 97}", f"Tfamily{t % 89}")
           for t in range(teachers)))
    write("sections.csv", ["School_id", "Section_id", "Teacher_id", "Teacher_2_id", "Name", "Section_number", "Grade",
                           "Course_name", "Course_number", "Period", "Subject", "Term_name", "Term_start", "Term_end"],
          ((f"SCH{c % SCHOOLS}", f"SEC{c}", f"T{c % teachers}", f"T{(c + 1) % teachers}" if c % 7 == 0 else "",
            f"Section {c}", str(c % 9), str(9 + c % 4), f"Course {c % 300}", f"C{c % 300}", str(1 + c % 8), "Math",
            "Year", "08/15/2026", "06/05/2027") for c in range(sections)))
    # Each student takes PER_STUDENT consecutive sections; the section's school is the row's school.
    write("enrollments.csv", ["School_id", "Section_id", "Student_id"],
          ((f"SCH{(i * PER_STUDENT + k) % sections % SCHOOLS}", f"SEC{(i * PER_STUDENT + k) % sections}", f"S{i}")
           for i in range(students) for k in range(PER_STUDENT)))
    return counts


_CHILD = """
import json, sys, time
from gateway.storage.db import make_engine
from gateway.storage import migrate
from gateway.ingesting import ingest
url, source = sys.argv[1], sys.argv[2]
engine = make_engine(url)
migrate.upgrade(engine)
started = time.perf_counter()
report = ingest(engine, "mappings/clever/mapping.yaml", source, "bench-clever")
seconds = time.perf_counter() - started
def peak_kib():
    # VmHWM is this process's own high-water mark. ru_maxrss is not: Linux carries into it the memory of the process
    # that spawned this one, up to exec (the whole bench process, with its district in memory).
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "committed": report.committed, "rows": report.rows_read,
                  "rejected": report.rejected, "errors": report.errors[:3], "peak_kib": peak_kib()}))
"""


def measure(url: str, source: str) -> dict:
    """Ingest ``source`` into the (empty) database at ``url`` in a child process: seconds, rows, peak RSS.

    The child reports its own peak (all its threads, from /proc/self/status): RUSAGE_CHILDREN would also count every
    earlier child of the bench, such as the gunicorn workers of the throughput runs, whichever was largest."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _CHILD, url, source], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError("clever ingest failed: " + done.stderr.strip().splitlines()[-1])
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result.update(wall=wall, peak_mb=result.pop("peak_kib") / 1024)  # ru_maxrss is in KiB on Linux
    return result


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    target = os.path.join(ROOT, "bench", ".data", f"clever-{count}")
    print(generate(target, count))
    database = os.path.join(ROOT, "bench", ".data", f"clever-{count}.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(database + suffix):
            os.remove(database + suffix)
    print(measure("sqlite:///" + database, target))
