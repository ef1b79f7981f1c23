"""Running a mapping written inline in a test over inline source files: the one helper the engine tests share."""
from __future__ import annotations

import textwrap

import pytest

from adapters.mapping import Engine, Inputs, MappingError, load_plan


def run_mapping(tmp_path, mapping: str, files: dict, **engine_options):
    """(records by (type, id), errors as "place: field: reason", the engine) of one run."""
    (tmp_path / "m.yaml").write_text(textwrap.dedent(mapping), encoding="utf-8")
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    for name, text in files.items():
        (data / name).write_text(textwrap.dedent(text), encoding="utf-8")
    plan = load_plan(tmp_path / "m.yaml")
    with Inputs(data) as inputs:
        engine = Engine(plan, inputs, **engine_options)
        outcomes = list(engine.run())
    records = {(rtype, sid): doc for o in outcomes for rtype, sid, doc in o.records}
    errors = [f"{o.place}: {field}: {reason}" for o in outcomes for field, reason in o.errors]
    return records, errors, engine


def compile_error(tmp_path, mapping: str) -> str:
    """The message of the MappingError that compiling ``mapping`` raises."""
    (tmp_path / "m.yaml").write_text(textwrap.dedent(mapping), encoding="utf-8")
    with pytest.raises(MappingError) as caught:
        load_plan(tmp_path / "m.yaml")
    return str(caught.value)
