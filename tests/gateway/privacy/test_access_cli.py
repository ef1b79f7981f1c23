"""``trellis students access-code``: the code is printed once, listed never, revoked per district; problems are one
line on stderr and exit status 1."""

import re

import pytest
from factories import seed

from gateway.privacy.access_codes import resolve

CODE = re.compile(r"^code:\s+(\S+)$", re.MULTILINE)
CODE_ID = re.compile(r"^code id:\s+(\S+)$", re.MULTILINE)


@pytest.fixture
def run(app, engine):
    seed(engine, "d1")
    seed(engine, "d2")
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=["students", "access-code", *args])


def issued(result):
    assert result.exit_code == 0, result.output
    return CODE_ID.search(result.output).group(1), CODE.search(result.output).group(1)


def test_issue_prints_the_code_once_and_it_opens_that_student(run, engine):
    result = run("issue", "--district", "d1", "s1", "--days", "7")
    code_id, code = issued(result)
    assert re.search(r"^expires:\s+\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$", result.output, re.MULTILINE)
    assert "shown only now" in result.output and result.stderr == ""
    with engine.connect() as conn:
        assert resolve(conn, code) == ("d1", "s1")
    listed = run("list", "--district", "d1")
    assert listed.exit_code == 0 and code_id in listed.output and code not in listed.output
    assert re.search(rf"{code_id}\s+s1\s+\S+\s+cli:\S+\s+\S+\s+active", listed.output)


def test_list_filters_by_student_and_district(run):
    first, _ = issued(run("issue", "--district", "d1", "s1"))
    second, _ = issued(run("issue", "--district", "d1", "s2"))
    other, _ = issued(run("issue", "--district", "d2", "s1"))
    only_s2 = run("list", "--district", "d1", "--student", "s2").output
    assert second in only_s2 and first not in only_s2 and "1 access code\n" in only_s2
    d1 = run("list", "--district", "d1").output
    assert first in d1 and second in d1 and other not in d1 and "2 access codes" in d1
    assert "0 access codes" in run("list", "--district", "d3").output


def test_revoke_refuses_the_code_from_its_next_use_in_its_district_only(run, engine):
    code_id, code = issued(run("issue", "--district", "d1", "s1"))
    elsewhere = run("revoke", "--district", "d2", code_id)
    assert elsewhere.exit_code == 1
    assert elsewhere.stderr.strip() == f"error: no access code {code_id!r} in district 'd2'"
    with engine.connect() as conn:
        assert resolve(conn, code) == ("d1", "s1")
    result = run("revoke", "--district", "d1", code_id)
    assert result.exit_code == 0 and f"access code {code_id} revoked" in result.output
    with engine.connect() as conn:
        assert resolve(conn, code) is None
    assert re.search(rf"{code_id}.*revoked$", run("list", "--district", "d1").output, re.MULTILINE)


@pytest.mark.parametrize("args,message", [
    (("issue", "--district", "d1", "t-a"), "no student 't-a' in district 'd1'"),
    (("issue", "--district", "d1", "ghost"), "no student 'ghost' in district 'd1'"),
    (("issue", "--district", "d2", "nobody"), "no student 'nobody' in district 'd2'"),
    (("issue", "--district", "d1", "s1", "--days", "0"), "days must be a whole number from 1 to 365"),
    (("issue", "--district", "d1", "s1", "--days", "366"), "days must be a whole number from 1 to 365"),
    (("issue", "--district", "d1", "s1", "--days", "soon"), "--days must be a whole number from 1 to 365"),
    (("revoke", "--district", "d1", "ac-nothing"), "no access code 'ac-nothing' in district 'd1'"),
])
def test_problems_are_one_line_on_stderr_and_exit_1(run, args, message):
    result = run(*args)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [f"error: {message}"]
    assert "Traceback" not in result.output and "code:" not in result.output


def test_issuing_and_revoking_reach_the_admin_change_log_without_the_code(run, engine):
    from gateway.admin.service import changes

    code_id, code = issued(run("issue", "--district", "d1", "s1"))
    assert run("revoke", "--district", "d1", code_id).exit_code == 0
    with engine.connect() as conn:
        logged = changes(conn, "d1")
    assert [entry["action"] for entry in logged][-2:] == ["access_code.issue", "access_code.revoke"]
    assert all(entry["actor"].startswith("cli:") for entry in logged)
    assert code not in repr(logged) and code.replace("-", "") not in repr(logged)
