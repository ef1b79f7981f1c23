"""``trellis import oneroster-csv`` and ``trellis export oneroster-csv``.

Why a module of its own: bulk transfers have their own reporting (a summary table, one line per problem as
``file:line: column: reason``, a progress bar on long imports), and like every command they end with one clear line
and an exit status, never a traceback. gateway/cli.py adds :data:`COMMANDS` to the application's command line.
"""
from __future__ import annotations

import contextlib
import sys

import click
from flask.cli import with_appcontext
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from gateway.loading import outcome_line
from gateway.storage.db import get_engine

COLUMNS = ("read", "created", "updated", "unchanged", "deleted", "rejected")


def _console(stderr: bool = False) -> Console:
    console = Console(stderr=stderr)
    return console if console.is_terminal else Console(stderr=stderr, width=120, color_system=None)


@contextlib.contextmanager
def _progress(console: Console):
    """A rich progress bar on an interactive terminal; None (no output) otherwise."""
    if not console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("{task.description:<34}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console, transient=True) as progress:
        yield progress


def _echo_messages(report) -> None:
    """A load report's warnings (stdout) and errors (stderr, capped as the report capped them)."""
    for warning in report.warnings:
        click.echo(f"warning: {warning}")
    for error in report.errors:
        click.echo(error, err=True)
    if report.errors_omitted:
        click.echo(f"... and {report.errors_omitted:,} more errors", err=True)


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


@click.group("import")
def import_group() -> None:
    """Import data into a district."""


@import_group.command("oneroster-csv")
@click.argument("path")
@click.option("--district", "district_id", required=True, help="district (tenant) id; created if missing")
@click.option("--dry-run", is_flag=True, help="check and report what would change, write nothing")
@click.option("--skip-invalid", is_flag=True, help="store the valid rows, write the invalid ones to the rejects file")
@click.option("--rejects", "rejects_path", default=None,
              help="with --skip-invalid: where to write the rejected rows (default: PATH.rejects.csv)")
@with_appcontext
def import_oneroster_csv(path: str, district_id: str, dry_run: bool, skip_invalid: bool,
                         rejects_path: str | None) -> None:
    """Import a OneRoster 1.1 or 1.2 CSV package (a .zip or a directory)."""
    from gateway.importing import import_bundle

    out = _console()
    try:
        with _progress(_console(stderr=True)) as progress:
            report = import_bundle(get_engine(), path, district_id, dry_run=dry_run, skip_invalid=skip_invalid,
                                   rejects_path=rejects_path, progress=progress)
    except SQLAlchemyError as error:
        _fail(f"database: {type(error).__name__}: {str(error).splitlines()[0]}")
    except OSError as error:
        _fail(f"{error.filename or path}: {error.strerror or error}")
    if report.files:
        table = Table(title=f"OneRoster {report.version} package {path} -> district {district_id}")
        table.add_column("file")
        for name in COLUMNS:
            table.add_column(name, justify="right")
        for name, stats in report.files.items():
            table.add_row(f"{name} ({stats.mode})", *(f"{getattr(stats, c):,}" for c in COLUMNS))
        out.print(table)
    _echo_messages(report)
    click.echo(outcome_line(report, "imported", dry_run=dry_run, skip_invalid=skip_invalid))
    sys.exit(0 if report.ok else 1)


@click.group("export")
def export_group() -> None:
    """Export a district's data."""


@export_group.command("oneroster-csv")
@click.argument("out")
@click.option("--district", "district_id", required=True)
@click.option("--version", "version", type=click.Choice(["1.1", "1.2"]), default="1.2", show_default=True)
@with_appcontext
def export_oneroster_csv(out: str, district_id: str, version: str) -> None:
    """Write the district's active records as a OneRoster CSV bulk package (OUT: a .zip or a directory)."""
    from gateway.exporting import ExportError, export_bundle

    try:
        counts = export_bundle(get_engine(), district_id, version, out)
    except ExportError as error:
        _fail(str(error))
    except SQLAlchemyError as error:
        _fail(f"database: {type(error).__name__}: {str(error).splitlines()[0]}")
    except OSError as error:
        _fail(f"{error.filename or out}: {error.strerror or error}")
    table = Table(title=f"OneRoster {version} package {out}")
    table.add_column("file")
    table.add_column("rows", justify="right")
    for name, rows in counts.items():
        table.add_row(name, f"{rows:,}")
    _console().print(table)
    click.echo(f"exported {sum(counts.values()):,} rows to {out}")


COMMANDS = [import_group, export_group]
