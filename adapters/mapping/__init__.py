"""The declarative mapping engine: YAML mapping files translate a source system's export into standard records.

Why a package of its own: mapping knows files and formats but nothing of Flask or the database (gateway/ingesting.py
stores what it produces), so preview, checks and tests run without an application. Language reference:
docs/mappings.md; schema of the language: mappings/schema.json.

    plan = compile_mapping(load_mapping("mappings/clever/mapping.yaml"))   # MappingError: "file:line: message"
    with Inputs("export/") as inputs:                                       # a directory, a zip or one file
        for outcome in Engine(plan, inputs).run():                          # SourceError: a file is unreadable
            ...
"""
from .compiler import Plan, compile_mapping
from .engine import Engine, Outcome
from .errors import MappingError, MappingErrors, RowError, SourceError
from .loader import MAPPINGS_DIR, load_mapping
from .sources import FORMATS, Format, Inputs, register
from .sources_http import open_inputs


def load_plan(path) -> Plan:
    """Load and compile a mapping file (and its includes)."""
    return compile_mapping(load_mapping(path))


__all__ = ["Engine", "FORMATS", "Format", "Inputs", "open_inputs", "MAPPINGS_DIR", "MappingError", "MappingErrors", "Outcome",
           "Plan", "RowError", "SourceError", "compile_mapping", "load_mapping", "load_plan", "register"]
