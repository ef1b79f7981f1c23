"""``--param`` on ``trellis mapping check|preview`` and ``trellis ingest``, and a mapping's ``delete`` reaching the
store: a delta ingest marks the record tobedeleted."""

from __future__ import annotations

from sqlalchemy import text

MAPPING = """\
version: 1
name: t
parameters:
  district_name: {description: name of the district org, default: Somewhere}
  year: {description: school year, format: integer}
sources:
  orgs: {file: orgs.csv}
records:
  orgs:
    source: orgs
    class: Org
    delete: "=status == 'deleted'"
    fields:
      sourcedId: =id
      name: "=concat(name, ' ', param('year'))"
      type: school
      identifier: =id
"""


def invoke(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def setup(tmp_path, rows: str):
    (tmp_path / "m.yaml").write_text(MAPPING, encoding="utf-8")
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    (data / "orgs.csv").write_text("id,name,status\n" + rows, encoding="utf-8")
    return str(tmp_path / "m.yaml"), str(data)


def test_check_lists_parameters_and_preview_takes_them(app, tmp_path):
    mapping, data = setup(tmp_path, "s1,One,\ns2,Two,deleted\n")
    result = invoke(app, "mapping", "check", mapping)
    assert result.exit_code == 0, result.stderr
    assert "parameter year (integer, required): school year" in result.stdout
    assert "parameter district_name (text, default 'Somewhere')" in result.stdout
    result = invoke(app, "mapping", "preview", mapping, "--source", data)
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert f"{mapping}:5: missing parameter year (school year): give it with --param year=VALUE" in result.stderr
    result = invoke(app, "mapping", "preview", mapping, "--source", data, "--param", "year=2025")
    assert result.exit_code == 0, result.stderr
    assert 'orgs.csv:2 orgs -> org {"sourcedId":"s1","name":"One 2025"' in result.stdout
    assert 'orgs.csv:3 orgs -> org (tobedeleted) {"sourcedId":"s2"' in result.stdout
    for bad, message in ((("year"), "--param year: expected name=value"),
                         (("yr=1"), "unknown parameter yr (the mapping declares: district_name, year)"),
                         (("year=x"), "parameter year: 'x' is not a whole number")):
        result = invoke(app, "mapping", "preview", mapping, "--source", data, "--param", bad)
        assert result.exit_code == 1 and message in result.stderr, result.stderr


def test_ingest_with_params_and_a_delta_deletion(app, engine, tmp_path):
    mapping, data = setup(tmp_path, "s1,One,\ns2,Two,\n")
    result = invoke(app, "ingest", "--mapping", mapping, "--source", data, "--district", "d1")
    assert result.exit_code == 1 and "missing parameter year" in result.stdout + result.stderr
    result = invoke(app, "ingest", "--mapping", mapping, "--source", data, "--district", "d1", "--param", "year=2025")
    assert result.exit_code == 0, result.stdout + result.stderr
    (tmp_path / "data" / "orgs.csv").write_text("id,name,status\ns2,,deleted\n", encoding="utf-8")
    result = invoke(app, "ingest", "--mapping", mapping, "--source", data, "--district", "d1", "--mode", "delta",
                    "--param", "year=2025")
    assert result.exit_code == 0, result.stdout + result.stderr
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT sourced_id, status FROM records WHERE tenant = 'd1' AND type = 'org'"))
        status = {sid: value for sid, value in rows}
    assert status == {"s1": "active", "s2": "tobedeleted"}


def test_an_ingest_stopped_by_a_missing_parameter_shows_the_error_not_empty_tables(app, tmp_path):
    mapping, data = setup(tmp_path, "s1,One,\n")
    result = invoke(app, "ingest", "--mapping", mapping, "--source", data, "--district", "d1")
    assert result.exit_code != 0
    assert "missing parameter year" in result.stderr
    assert "created" not in result.stdout and "records" not in result.stdout  # no tables of zeros
    assert "nothing written" in result.stdout + result.stderr
