"""``trellis mapping check|preview`` and ``trellis ingest``: mapping files from the command line.

Why a module of its own: integrators iterate on a mapping file with ``check`` (is the file right? does a sample
export have the columns it uses?) and ``preview`` (what would each row become, and why would a row be rejected?)
before ``ingest`` writes anything. Like every command, they end with one clear line and an exit status, never a
traceback. gateway/cli.py adds :data:`COMMANDS` to the application's command line.
"""
from __future__ import annotations

import sys

import click
import orjson
from flask.cli import with_appcontext
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from gateway.loading import outcome_line
from gateway.storage.db import get_engine
from gateway.transfer_cli import _console, _echo_messages, _fail, _progress

RULE_COLUMNS = ("read", "produced", "filtered", "duplicates", "rejected")
RECORD_COLUMNS = ("created", "updated", "unchanged", "deleted", "rejected")
MAX_SHOWN_ERRORS = 200


def _plan(path: str):
    from adapters.mapping import MappingError, load_plan

    try:
        return load_plan(path)
    except MappingError as error:
        click.echo(str(error), err=True)
        _fail(f"{path}: the mapping has errors")


@click.group("mapping")
def mapping_group() -> None:
    """Mapping files: translate a source system's export into Trellis records."""


def _params(pairs) -> dict:
    """--param name=value (repeatable) as a dict; a malformed one ends the command with a clear line."""
    from adapters.mapping.parameters import parse_assignments

    try:
        return parse_assignments(pairs)
    except ValueError as error:
        _fail(str(error))


PARAM_HELP = "a run parameter declared by the mapping, as name=value (repeatable)"


@mapping_group.command("check")
@click.argument("file")
@click.option("--sample", "sample", default=None, help="a sample export (directory, zip or file): check its columns")
def mapping_check(file: str, sample: str | None) -> None:
    """Validate a mapping file (schema, expressions, target fields); with --sample, the columns it uses."""
    plan = _plan(file)
    problems = _check_sample(plan, sample) if sample else 0
    kinds = ", ".join(dict.fromkeys(r.cls for r in plan.rules))
    click.echo(f"{file}: {_count(plan.rules, 'record rule')} ({kinds}), {_count(plan.sources, 'source')}, "
               f"{_count(plan.crosswalks, 'crosswalk')}, {_count(plan.lookups, 'lookup table')}")
    for parameter in (plan.parameters or {}).values():
        default = "required" if parameter.required else f"default {parameter.default!r}"
        about = f": {parameter.description}" if parameter.description else ""
        click.echo(f"parameter {parameter.name} ({parameter.format}, {default}){about}")
    if problems:
        _fail(f"{file}: {problems} problem{'s' if problems > 1 else ''} with the sample {sample}")
    click.echo("ok" + (f": the sample {sample} has every required column" if sample else ""))


def _count(items, noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


def _check_sample(plan, sample: str) -> int:
    """Report required columns missing from the sample (errors) and other named columns missing (warnings)."""
    from adapters.mapping import Inputs, MappingError

    problems = 0
    try:
        inputs = Inputs(sample)
    except MappingError as error:
        _fail(str(error))
    used = {r.source for r in plan.rules} | {t.source for t in plan.lookups.values()}
    only = inputs.kind == "file" and len(used) == 1
    with inputs:
        for name in sorted(used):
            source = plan.sources[name]
            source.only = only
            if source.spec.file and not inputs.exists(source.spec.file, only):
                if not source.spec.options.get("optional"):
                    click.echo(f"error: {source.label}: not in the sample {sample}", err=True)
                    problems += 1
                continue
            try:
                header = source.header(inputs)
            except MappingError as error:
                click.echo(f"error: {error}", err=True)
                problems += 1
                continue
            folded = {h.casefold() for h in header}
            for column in source.spec.options.get("required_columns") or ():
                if column.casefold() not in folded:
                    click.echo(f"error: {source.label}: required column {column} is missing", err=True)
                    problems += 1
            absent = sorted(c for c in plan.columns[name] - plan.optional_columns[name]
                            - set(source.spec.options.get("required_columns") or ()) if c.casefold() not in folded)
            if absent:
                click.echo(f"warning: {source.label}: no column {', '.join(absent)} (used by the mapping; "
                           "treated as empty)")
    return problems


@mapping_group.command("preview")
@click.argument("file")
@click.option("--source", "source", required=True, help="the export: a directory, a zip or a file")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(min=0),
              help="records shown per rule (every rejected row is shown)")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help=PARAM_HELP)
def mapping_preview(file: str, source: str, limit: int, params: tuple) -> None:
    """Show the records a mapping would produce from a source, and each rejected row's errors. Writes nothing."""
    from adapters.mapping import Engine, MappingError, open_inputs

    plan = _plan(file)
    values = _params(params)
    shown: dict[str, int] = {}
    errors = 0
    try:
        with open_inputs(source) as inputs:
            engine = Engine(plan, inputs, params=values)
            for outcome in engine.run():
                if outcome.errors:
                    errors += 1
                    if errors <= MAX_SHOWN_ERRORS:
                        for column, reason in outcome.errors:
                            click.echo(f"{outcome.place}: {outcome.rule}: {column}: {reason}", err=True)
                    continue
                if shown.get(outcome.rule, 0) >= limit:
                    continue
                shown[outcome.rule] = shown.get(outcome.rule, 0) + 1
                for rtype, _sid, doc in outcome.records:
                    content = {k: v for k, v in doc.items() if k not in ("status", "dateLastModified")}
                    status = "" if doc.get("status", "active") == "active" else f" ({doc['status']})"
                    click.echo(f"{outcome.place} {outcome.rule} -> {rtype}{status} "
                               f"{orjson.dumps(content).decode()}")
    except MappingError as error:
        _fail(str(error))
    _console().print(_rules_table(f"{file} on {source} (preview, nothing written)", engine.stats))
    for warning in engine.warnings:
        click.echo(f"warning: {warning}")
    if errors > MAX_SHOWN_ERRORS:
        click.echo(f"... and {errors - MAX_SHOWN_ERRORS:,} more rejected rows", err=True)
    click.echo(f"{errors:,} rejected rows" if errors else "no rejected rows")


@click.command("ingest")
@click.option("--mapping", "mapping", required=True, help="the mapping file")
@click.option("--source", "source", required=True, help="the export: a directory, a zip or a file")
@click.option("--district", "district_id", required=True, help="district (tenant) id; created if missing")
@click.option("--mode", type=click.Choice(["snapshot", "delta"]), default="snapshot", show_default=True,
              help="snapshot: records of the mapped types missing from the source are marked tobedeleted")
@click.option("--dry-run", is_flag=True, help="check and report what would change, write nothing")
@click.option("--skip-invalid", is_flag=True, help="store the valid rows, write the invalid ones to the rejects file")
@click.option("--rejects", "rejects_path", default=None,
              help="with --skip-invalid: where to write the rejected rows (default: SOURCE.rejects.csv)")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help=PARAM_HELP)
@click.option("--max-delete", "max_delete", type=click.IntRange(0, 100), default=50, show_default=True,
              metavar="PERCENT", help="snapshot: refuse a run that would mark more than this share of a record "
                                      "type's stored records tobedeleted (the wrong or a truncated file)")
@with_appcontext
def ingest_command(mapping: str, source: str, district_id: str, mode: str, dry_run: bool, skip_invalid: bool,
                   rejects_path: str | None, params: tuple, max_delete: int) -> None:
    """Ingest a source through a mapping file into a district (atomic unless --skip-invalid)."""
    from gateway.ingesting import ingest

    values = _params(params)
    try:
        with _progress(_console(stderr=True)) as progress:
            report = ingest(get_engine(), mapping, source, district_id, mode=mode, dry_run=dry_run,
                            skip_invalid=skip_invalid, rejects_path=rejects_path, progress=progress,
                            params=values, max_delete=max_delete / 100)
    except SQLAlchemyError as error:
        _fail(f"database: {type(error).__name__}: {str(error).splitlines()[0]}")
    except OSError as error:
        _fail(f"{error.filename or source}: {error.strerror or error}")
    _print_report(report, mapping, source, district_id)
    click.echo(outcome_line(report, "ingested", dry_run=dry_run, skip_invalid=skip_invalid))
    sys.exit(0 if report.ok else 1)


def _print_report(report, mapping: str, source: str, district_id: str) -> None:
    out = _console()
    # A run stopped before reading anything (a missing parameter or file) has only its error to show, not empty tables.
    stopped = report.errors and not report.rows_read and not report.rejected
    if report.rules and not stopped:
        out.print(_rules_table(f"{mapping} on {source} -> district {district_id} ({report.mode})", report.rules))
    if report.records and not stopped:
        table = Table(title="records")
        table.add_column("type")
        for name in RECORD_COLUMNS:
            table.add_column(name, justify="right")
        for rtype, stats in report.records.items():
            table.add_row(rtype, *(f"{getattr(stats, c):,}" for c in RECORD_COLUMNS))
        out.print(table)
    for reason, count in report.reasons.most_common():
        click.echo(f"rejected {count:,} x {reason}")
    _echo_messages(report)


def _rules_table(title: str, rules: dict) -> Table:
    """Rows read, produced, rejected ... per rule: the same table for a preview and an ingest."""
    table = Table(title=title)
    table.add_column("rule")
    table.add_column("source -> class")
    for name in RULE_COLUMNS:
        table.add_column(name, justify="right")
    for stats in rules.values():
        table.add_row(stats.rule, f"{stats.source} -> {stats.cls}", *(f"{getattr(stats, c):,}" for c in RULE_COLUMNS))
    return table


COMMANDS = [mapping_group, ingest_command]
