"""Factories for OneRoster 1.2 documents and a small seeded district, written through the real store."""

from __future__ import annotations

from gateway.storage.records import RecordWriter


def ref(rtype: str, sourced_id: str) -> dict:
    return {"sourcedId": sourced_id, "type": rtype}


def org(sid, name, otype="school", parent=None, identifier=None):
    doc = {"sourcedId": sid, "name": name, "type": otype, "identifier": identifier or sid.upper()}
    if parent:
        doc["parent"] = ref("org", parent)
    return doc


def session(sid, title, stype, start, end, year="2027", parent=None):
    doc = {"sourcedId": sid, "title": title, "type": stype, "startDate": start, "endDate": end, "schoolYear": year}
    if parent:
        doc["parent"] = ref("academicSession", parent)
    return doc


def course(sid, title, org_id, code=None):
    return {"sourcedId": sid, "title": title, "courseCode": code or sid.upper(), "org": ref("org", org_id)}


def klass(sid, title, course_id, school, terms, class_type="scheduled", grades=("09",)):
    return {"sourcedId": sid, "title": title, "classType": class_type, "course": ref("course", course_id),
            "school": ref("org", school), "terms": [ref("academicSession", t) for t in terms], "grades": list(grades)}


def user(sid, given, family, role, orgs, email=None, grades=None, extra=None):
    doc = {"sourcedId": sid, "enabledUser": "true", "givenName": given, "familyName": family,
           "username": f"{given}.{family}".lower(), "email": email or f"{given}.{family}@example.org".lower(),
           "roles": [{"roleType": "primary" if index == 0 else "secondary", "role": role, "org": ref("org", o)}
                     for index, o in enumerate(orgs)],
           "primaryOrg": ref("org", orgs[0])}
    if grades:
        doc["grades"] = list(grades)
    doc.update(extra or {})
    return doc


def enrollment(sid, user_id, class_id, school, role="student", primary="false"):
    return {"sourcedId": sid, "role": role, "primary": primary, "user": ref("user", user_id),
            "class": ref("class", class_id), "school": ref("org", school)}


def demographics(sid, birth, sex):
    return {"sourcedId": sid, "birthDate": birth, "sex": sex, "asian": "false", "white": "true"}


DISTRICT = {
    "org": [org("dist", "Springfield District", "district"), org("sch1", "North High", parent="dist"),
            org("sch2", "South High", parent="dist")],
    "academicSession": [
        session("sy", "2026-2027", "schoolYear", "2026-08-20", "2027-06-15"),
        session("t1", "Fall", "term", "2026-08-20", "2026-12-20", parent="sy"),
        session("t2", "Spring", "term", "2027-01-05", "2027-06-15", parent="sy"),
        session("gp1", "Fall Q1", "gradingPeriod", "2026-08-20", "2026-10-15", parent="t1"),
        session("gp2", "Fall Q2", "gradingPeriod", "2026-10-16", "2026-12-20", parent="t1")],
    "course": [course("c-math", "Algebra", "sch1"), course("c-eng", "English", "sch2")],
    "class": [klass("cls1", "Algebra A", "c-math", "sch1", ["t1"]),
              klass("cls2", "Algebra B", "c-math", "sch1", ["t1", "t2"]),
              klass("cls3", "English A", "c-eng", "sch2", ["t2"], grades=("10",))],
    "user": [user("s1", "Ann", "Lee", "student", ["sch1"], grades=["09"]),
             user("s2", "Bob", "O'Brien", "student", ["sch1"], grades=["09"]),
             user("s3", "Cara", "Diaz", "student", ["sch1"], grades=["10"]),
             user("s4", "Dan", "Ng", "student", ["sch1"], grades=["10"]),
             user("s5", "Eve", "Kim", "student", ["sch2"], grades=["10"]),
             user("s6", "Finn", "Roe", "student", ["sch2"], grades=["11"]),
             user("t-a", "Tia", "Adams", "teacher", ["sch1"]),
             user("t-b", "Tom", "Baker", "teacher", ["sch2"])],
    "enrollment": [enrollment("e1", "s1", "cls1", "sch1"), enrollment("e2", "s2", "cls1", "sch1"),
                   enrollment("e3", "s3", "cls2", "sch1"), enrollment("e4", "s1", "cls2", "sch1"),
                   enrollment("e5", "s5", "cls3", "sch2"), enrollment("e6", "s6", "cls3", "sch2"),
                   enrollment("e7", "t-a", "cls1", "sch1", "teacher", "true"),
                   enrollment("e8", "t-a", "cls2", "sch1", "teacher", "true"),
                   enrollment("e9", "t-b", "cls3", "sch2", "teacher", "true")],
    "demographics": [demographics("s1", "2011-03-04", "female"), demographics("s2", "2011-05-06", "male")],
}


def seed(engine, tenant="d1", data=None):
    """Write the district through :class:`RecordWriter`; returns its stats."""
    with engine.begin() as conn:
        writer = RecordWriter(conn, tenant)
        for rtype, docs in (data or DISTRICT).items():
            for doc in docs:
                writer.put(rtype, doc["sourcedId"], doc)
        return writer.close()
