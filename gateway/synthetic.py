"""Deterministic synthetic district written as a OneRoster 1.2 CSV bulk package (reference/oneroster-csv-v1p2.md).

Used for demos and load tests, so it must be reproducible byte for byte (one ``random.Random(seed)`` consumed in a fixed
order, fixed zip timestamps) and must stream: rows go straight to disk and nothing per-enrollment is kept in memory.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import functools
import os
import random
import re
import shutil
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DistrictSize:
    """How big a district to generate; the presets below cover the demo and the load test."""

    schools: int
    students: int
    teachers: int
    classes: int
    enrollments_per_student: int


DEMO = DistrictSize(schools=2, students=200, teachers=12, classes=24, enrollments_per_student=5)
LARGE = DistrictSize(schools=40, students=100_000, teachers=5_000, classes=20_000, enrollments_per_student=6)

#: Every 1.2 data file, in manifest order; the ones not generated are declared ``absent``.
ONEROSTER_12_FILES = (
    "academicSessions", "categories", "classes", "classResources", "courses", "courseResources", "demographics",
    "enrollments", "lineItemLearningObjectiveIds", "lineItems", "lineItemScoreScales", "orgs", "resources",
    "resultLearningObjectiveIds", "results", "resultScoreScales", "roles", "scoreScales", "userProfiles",
    "userResources", "users",
)

#: Exact 1.2 header rows (column order matters); cross-checked against ``standards.load_csv_binding`` when present.
HEADERS: dict[str, tuple[str, ...]] = {name: tuple(row.split(",")) for name, row in {
    "orgs.csv": "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId",
    "academicSessions.csv": "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear",
    "courses.csv": "sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,orgSourcedId,"
                   "subjects,subjectCodes",
    "classes.csv": "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,"
                   "schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods",
    "users.csv": "sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,middleName,"
                 "identifier,email,sms,phone,agentSourcedIds,grades,password,userMasterIdentifier,resourceSourcedIds,"
                 "preferredGivenName,preferredMiddleName,preferredFamilyName,primaryOrgSourcedId,pronouns",
    "roles.csv": "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,orgSourcedId,"
                 "userProfileSourcedId",
    "enrollments.csv": "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,"
                       "beginDate,endDate",
    "demographics.csv": "sourcedId,status,dateLastModified,birthDate,sex,americanIndianOrAlaskaNative,asian,"
                        "blackOrAfricanAmerican,nativeHawaiianOrOtherPacificIslander,white,"
                        "demographicRaceTwoOrMoreRaces,hispanicOrLatinoEthnicity,countryOfBirthCode,"
                        "stateOfBirthAbbreviation,cityOfBirth,publicSchoolResidenceStatus",
}.items()}

# School year 2026-2027; end dates are exclusive, as the CSV binding defines them.
SCHOOL_YEAR = 2027
_YEAR = ("sy-2027", "School Year 2026-2027", "schoolYear", "2026-08-01", "2027-08-01", "")
_TERMS = (("trm-2027-s1", "Fall Semester 2026", "term", "2026-08-24", "2027-01-16", "sy-2027"),
          ("trm-2027-s2", "Spring Semester 2027", "term", "2027-01-19", "2027-06-12", "sy-2027"))
_PERIODS = (("gp-2027-q1", "Quarter 1", "gradingPeriod", "2026-08-24", "2026-10-24", "trm-2027-s1"),
            ("gp-2027-q2", "Quarter 2", "gradingPeriod", "2026-10-26", "2027-01-16", "trm-2027-s1"),
            ("gp-2027-q3", "Quarter 3", "gradingPeriod", "2027-01-19", "2027-03-27", "trm-2027-s2"),
            ("gp-2027-q4", "Quarter 4", "gradingPeriod", "2027-03-29", "2027-06-12", "trm-2027-s2"))
# A class runs all year or one semester: (termSourcedIds, beginDate, endDate).
_SPANS = (("trm-2027-s1,trm-2027-s2", "2026-08-24", "2027-06-12"),
          ("trm-2027-s1", "2026-08-24", "2027-01-16"),
          ("trm-2027-s2", "2027-01-19", "2027-06-12"))

_LEVELS = (("Elementary School", ("KG", "01", "02", "03", "04", "05")),
           ("Middle School", ("06", "07", "08")),
           ("High School", ("09", "10", "11", "12")))
_SUBJECTS = (("Mathematics", "MATH"), ("English Language Arts", "ELA"), ("Science", "SCI"),
             ("Social Studies", "SOC"), ("Art", "ART"), ("Music", "MUS"), ("Physical Education", "PE"),
             ("World Languages", "WL"), ("Computer Science", "CS"))
_SCHOOL_NAMES = ("Lincoln", "Washington", "Roosevelt", "Jefferson", "Riverside", "Maple Grove", "Hillcrest",
                 "Lakeview", "Cedar Park", "Oak Ridge", "Sunnyvale", "Pine Valley", "Brookside", "Westfield",
                 "Eastwood", "Northgate", "Southridge", "Fairview", "Meadowbrook", "Harbor View")
_GIVEN = ("Olivia", "Liam", "Emma", "Noah", "Amara", "Mateo", "Sofía", "Elijah", "Aisha", "Lucas", "Mia", "Ethan",
          "Zoë", "Mohammed", "Chloé", "Hiroshi", "Priya", "Diego", "Hannah", "Kwame", "Leah", "Santiago", "Grace",
          "Ravi", "Isabella", "Jonas", "Nora", "Tomás", "Aaliyah", "Wei", "Freya", "Omar", "Lucía", "Caleb", "Yuki",
          "Imani", "Oliver", "Ananya", "Mason", "Björn")
_FAMILY = ("Smith", "Johnson", "Nguyen", "García", "Brown", "Patel", "Kim", "Martínez", "Okafor", "Müller", "Chen",
           "Williams", "Hernández", "Cohen", "Singh", "Rossi", "Dubois", "Kowalski", "Haddad", "Andersson", "Tanaka",
           "Jones", "O'Connor", "López", "Mensah", "Ivanova", "Davis", "Silva", "Wilson", "Yamamoto", "Ahmed",
           "Taylor", "Fischer", "Novak", "Moore", "Reyes", "Clark", "Sato", "Park", "Walker")
_RACES = ("americanIndianOrAlaskaNative", "asian", "blackOrAfricanAmerican", "nativeHawaiianOrOtherPacificIslander",
          "white")
_RACE_WEIGHTS = (2, 6, 15, 1, 76)

_DISTRICT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,62}$")


@functools.cache
def _headers() -> dict[str, tuple[str, ...]]:
    """Our header constants, checked against the machine-readable binding so the two can never drift apart."""
    try:
        from standards import load_csv_binding
        binding = load_csv_binding("1.2")
    except Exception:  # the binding is optional; the constants come from the same reference text
        return HEADERS
    for name, header in HEADERS.items():
        theirs = tuple(column.name for column in binding.files[name].columns)
        if theirs != header:
            raise AssertionError(f"{name}: header {header} differs from standards binding {theirs}")
    return HEADERS


def _split(total: int, parts: int) -> list[tuple[int, int]]:
    """(start, count) per school: contiguous, balanced blocks, so ids stay readable and ownership is arithmetic."""
    base, extra = divmod(total, parts)
    out, start = [], 0
    for index in range(parts):
        count = base + (1 if index < extra else 0)
        out.append((start, count))
        start += count
    return out


@functools.cache
def _ascii(text: str) -> str:
    """Usernames and e-mail addresses must stay ASCII even when names are not."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z]", "", folded.lower())


class _Sink:
    """A csv writer that counts its data rows and prefixes the blank bulk-mode status and dateLastModified."""

    def __init__(self, directory: Path, name: str, stack: contextlib.ExitStack):
        handle = stack.enter_context(open(directory / name, "w", newline="", encoding="utf-8", buffering=1 << 20))
        self._writer = csv.writer(handle)
        self._writer.writerow(_headers()[name])
        self.rows = 0

    def row(self, sourced_id: str, *values: str) -> None:
        self._writer.writerow((sourced_id, "", "", *values))
        self.rows += 1


def _validate(size: DistrictSize, district_id: str) -> None:
    if not _DISTRICT_ID.match(district_id):
        raise ValueError(f"district_id {district_id!r}: use letters, digits and '-' (it is used in ids and e-mails)")
    if min(size.schools, size.students, size.teachers, size.classes, size.enrollments_per_student) < 0:
        raise ValueError(f"{size}: counts must not be negative")
    if size.schools < 1:
        raise ValueError(f"{size}: a district needs at least one school")
    for (_, students), (_, teachers), (_, classes) in zip(_split(size.students, size.schools),
                                                          _split(size.teachers, size.schools),
                                                          _split(size.classes, size.schools)):
        if students and classes < size.enrollments_per_student:
            raise ValueError(f"{size}: each school needs at least enrollments_per_student classes")
        if classes and not teachers:
            raise ValueError(f"{size}: each school with classes needs at least one teacher")


def generate_bundle(out: str | os.PathLike, size: DistrictSize, *, district_id: str = "demo", seed: int = 2026,
                    zip: bool = False) -> dict[str, int]:  # noqa: A002 - the public keyword the callers use
    """Write the package to directory ``out``, or a zip when ``zip`` or ``out`` ends with .zip; return rows per file.

    Files that would have no data rows are left out and declared ``absent``, since the binding forbids empty files.
    """
    _validate(size, district_id)
    target = Path(out)
    if not (zip or target.suffix.lower() == ".zip"):
        target.mkdir(parents=True, exist_ok=True)
        return _write_all(target, size, district_id, seed)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".trellis-synthetic-", dir=target.parent) as scratch:
        counts = _write_all(Path(scratch), size, district_id, seed)
        partial = Path(scratch) / "bundle.zip"
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name in ["manifest.csv", *counts]:
                info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))  # fixed: byte-identical zips
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                with open(Path(scratch) / name, "rb") as source, archive.open(info, "w") as sink:
                    shutil.copyfileobj(source, sink, 1 << 20)
        os.replace(partial, target)
    return counts


def _write_all(directory: Path, size: DistrictSize, district_id: str, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    names = ("orgs.csv", "academicSessions.csv", "courses.csv", "classes.csv", "users.csv", "roles.csv",
             "enrollments.csv", "demographics.csv")
    with contextlib.ExitStack() as stack:
        sinks = {name: _Sink(directory, name, stack) for name in names}
        _District(rng, size, district_id, sinks).write()
    counts = {name: sink.rows for name, sink in sinks.items()}
    for name, rows in list(counts.items()):
        if not rows:
            del counts[name]
    for stem in ONEROSTER_12_FILES:  # leftovers from an earlier run would contradict the manifest
        if f"{stem}.csv" not in counts:
            (directory / f"{stem}.csv").unlink(missing_ok=True)
    with open(directory / "manifest.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(("propertyName", "value"))
        writer.writerow(("manifest.version", "1.0"))
        writer.writerow(("oneroster.version", "1.2"))
        for stem in ONEROSTER_12_FILES:
            writer.writerow((f"file.{stem}", "bulk" if f"{stem}.csv" in counts else "absent"))
        writer.writerow(("source.systemName", "Trellis synthetic"))
    return counts


class _School:
    """What later rows need to know about a school: its classes and which of them suit each grade."""

    def __init__(self, index: int, students: tuple[int, int], teachers: tuple[int, int], classes: tuple[int, int]):
        self.index, self.students, self.teachers, self.classes = index, students, teachers, classes
        self.sourced_id = f"sch-{index + 1:02d}"
        self.level, self.grades = _LEVELS[index % len(_LEVELS)]
        self.by_grade: dict[str, list[int]] = {grade: [] for grade in self.grades}
        self.others: dict[str, list[int]] = {grade: [] for grade in self.grades}
        for local in range(classes[1]):
            own = self.grades[local % len(self.grades)]
            for grade in self.grades:
                (self.by_grade if grade == own else self.others)[grade].append(classes[0] + local)


class _District:
    """Generates the rows in one fixed order so that a seed always yields the same bytes."""

    def __init__(self, rng: random.Random, size: DistrictSize, district_id: str, sinks: dict[str, _Sink]):
        self.rng, self.size, self.sinks = rng, size, sinks
        self.district = f"dist-{district_id}"
        self.domain = f"{district_id.lower()}.example.org"
        self.title = district_id.replace("-", " ").title()
        splits = zip(_split(size.students, size.schools), _split(size.teachers, size.schools),
                     _split(size.classes, size.schools))
        self.schools = [_School(index, *parts) for index, parts in enumerate(splits)]
        self.class_info: list[tuple[str, str, str, str]] = []  # (class, school, begin, end): all per-class state
        self.enrollments = 0

    def write(self) -> None:
        self._orgs()
        self._sessions()
        self._courses()
        self._classes()
        for school in self.schools:
            for number in range(school.teachers[0], school.teachers[0] + school.teachers[1]):
                self._user(school, f"tch-{number + 1:04d}", "teacher", 9_000_001 + number, "")
        for school in self.schools:
            for number in range(school.students[0], school.students[0] + school.students[1]):
                self._student(school, number)

    def _orgs(self) -> None:
        sink = self.sinks["orgs.csv"]
        sink.row(self.district, f"{self.title} School District", "district", "9900000", "")
        cycle = len(_SCHOOL_NAMES) * len(_LEVELS)
        for school in self.schools:
            name = f"{_SCHOOL_NAMES[school.index % len(_SCHOOL_NAMES)]} {school.level}"
            if school.index >= cycle:
                name += f" {school.index // cycle + 1}"
            sink.row(school.sourced_id, name, "school", f"{9900001 + school.index}", self.district)

    def _sessions(self) -> None:
        sink = self.sinks["academicSessions.csv"]
        for sourced_id, *values in (_YEAR, *_TERMS, *_PERIODS):
            sink.row(sourced_id, *values, str(SCHOOL_YEAR))

    def _courses(self) -> None:
        """A district-wide catalogue: one homeroom and one course per subject for each grade that is taught."""
        sink = self.sinks["courses.csv"]
        taught = {school.level for school in self.schools}
        for level, grades in (item for item in _LEVELS if item[0] in taught):
            for grade in grades:
                sink.row(f"crs-{grade}-hr", "sy-2027", f"Homeroom Grade {grade}", f"HR-{grade}", grade,
                         self.district, "", "")
                for subject, code in self._subjects(level):
                    sink.row(f"crs-{grade}-{code.lower()}", "sy-2027", f"{subject} Grade {grade}", f"{code}-{grade}",
                             grade, self.district, subject, "")

    @staticmethod
    def _subjects(level: str) -> tuple[tuple[str, str], ...]:
        return _SUBJECTS[:7] if level == _LEVELS[0][0] else _SUBJECTS

    def _classes(self) -> None:
        """The first class of each grade is its homeroom; each class also gets its one primary teacher here."""
        sink = self.sinks["classes.csv"]
        for school in self.schools:
            subjects = self._subjects(school.level)
            width = len(school.grades)
            for local in range(school.classes[1]):
                number = school.classes[0] + local
                sourced_id, grade, section = f"cls-{number + 1:05d}", school.grades[local % width], local // width
                if section == 0:
                    span, subject, code, periods, kind = 0, "", "HR", "0", "homeroom"
                    title = f"Homeroom {grade}"
                else:
                    span = self.rng.choices((0, 1, 2), weights=(6, 2, 2))[0]
                    subject, code = subjects[(section - 1) % len(subjects)]
                    count = 1 if self.rng.random() < 0.8 else 2
                    periods = ",".join(str(p) for p in sorted(self.rng.sample(range(1, 9), count)))
                    kind, title = "scheduled", f"{subject} {grade} - Section {section}"
                self.class_info.append((sourced_id, school.sourced_id, *_SPANS[span][1:]))
                sink.row(sourced_id, title, grade, f"crs-{grade}-{code.lower()}", f"{code}-{grade}-{number + 1:05d}",
                         kind, f"Room {100 + local % 300}", school.sourced_id, _SPANS[span][0], subject, "", periods)
                teacher = school.teachers[0] + local % school.teachers[1]
                self._enrol(number, f"tch-{teacher + 1:04d}", "teacher", "true")

    def _enrol(self, class_number: int, user: str, role: str, primary: str) -> None:
        self.enrollments += 1
        class_id, school_id, begin, end = self.class_info[class_number]
        self.sinks["enrollments.csv"].row(f"enr-{self.enrollments:07d}", class_id, school_id, user, role, primary,
                                          begin, end)

    def _user(self, school: _School, sourced_id: str, role: str, local_id: int, grade: str) -> None:
        rng = self.rng
        given, family = rng.choice(_GIVEN), rng.choice(_FAMILY)
        middle = rng.choice(_GIVEN) if rng.random() < 0.3 else ""
        number = sourced_id.split("-")[1].lstrip("0")
        username = f"{_ascii(given)}.{_ascii(family)}{'' if role == 'student' else '.t'}{number}"
        self.sinks["users.csv"].row(
            sourced_id, "true", username, f"{{Local:{local_id}}}", given, family, middle, str(local_id),
            f"{username}@{self.domain}", "", "", "", grade, "", "", "", "", "", "", school.sourced_id, "")
        self.sinks["roles.csv"].row(f"rol-{sourced_id}", sourced_id, "primary", role, _YEAR[3], _YEAR[4],
                                    school.sourced_id, "")

    def _student(self, school: _School, number: int) -> None:
        rng, sourced_id = self.rng, f"stu-{number + 1:06d}"
        grade = rng.choice(school.grades)
        self._user(school, sourced_id, "student", 1_000_001 + number, grade)
        self._demographics(sourced_id, grade)
        wanted, same = self.size.enrollments_per_student, school.by_grade[grade]
        if not wanted:
            return
        if len(same) >= wanted:  # own homeroom plus other classes of the student's grade
            picked = same[:1] + rng.sample(same[1:], wanted - 1)
        else:  # small schools: every class of the grade, topped up from the rest of the school
            picked = same + rng.sample(school.others[grade], wanted - len(same))
        for class_number in picked:
            self._enrol(class_number, sourced_id, "student", "")

    def _demographics(self, sourced_id: str, grade: str) -> None:
        """Birth dates match the grade (age 5 in KG on 1 September 2026); race and ethnicity are plausible mixes."""
        rng = self.rng
        offset = 0 if grade == "KG" else int(grade)
        born = dt.date(2020 - offset, 9, 2) + dt.timedelta(days=rng.randrange(365))
        sex = rng.choices(("female", "male", "unspecified", "other"), weights=(49, 49, 1, 1))[0]
        races = set(rng.choices(_RACES, weights=_RACE_WEIGHTS, k=2 if rng.random() < 0.06 else 1))
        flags = ["true" if race in races else "false" for race in _RACES]
        hispanic = "true" if rng.random() < 0.25 else "false"
        self.sinks["demographics.csv"].row(sourced_id, born.isoformat(), sex, *flags,
                                           "true" if len(races) > 1 else "false", hispanic, "", "", "", "")
