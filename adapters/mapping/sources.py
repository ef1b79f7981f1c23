"""Reading sources: where the files come from (:class:`Inputs`) and how each format turns into rows (a registry).

Why a registry: each source of a mapping names a ``format``; a format is a small class registered under that name,
so a new one (the HTTP JSON API source) is added without touching the engine. The interface:

    @register
    class MyFormat(Format):
        name = "myformat"                       # the `format:` value in mapping files
        options = frozenset({"records"})        # source keys this format accepts (beyond file/member/optional/format)
        def rows(self, inputs, wanted):         # -> iterator of (where, row dict, problem or None)
            ...

``where`` is a line number (or a record path for JSON), ``row`` maps column names to values (text for CSV, JSON
values as they are), and ``problem`` is a reason that rejects that row only. A source that cannot be read at all
raises :class:`SourceError` naming the file and line. ``wanted`` holds the column names the mapping uses, so a format
can match headers case-insensitively to them. ``prepare(inputs)`` may return the number of rows expected (for a
progress bar); ``header(inputs)`` returns the columns a sample has (``trellis mapping check --sample``); ``notes``
collects warnings (e.g. "read as Windows-1252").

CSV/TSV and JSON Lines stream (memory does not grow with the file); JSON and XML documents are parsed whole.
"""
from __future__ import annotations

import codecs
import csv
import io
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Iterator

from .errors import MappingError, SourceError

FORMATS: dict[str, type["Format"]] = {}
EXTENSIONS = {".csv": "csv", ".tsv": "tsv", ".txt": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl",
              ".xml": "xml"}
COMMON_OPTIONS = frozenset({"format", "file", "member", "optional", "required_columns"})
_CHUNK = 1 << 20
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError)


def register(cls: type["Format"]) -> type["Format"]:
    FORMATS[cls.name] = cls
    return cls


@dataclass
class SourceSpec:
    """One entry of a mapping's ``sources``: its name, file and options, and where it is declared."""

    name: str
    file: str | None
    format: str
    options: dict = field(default_factory=dict)
    declared: tuple[str, int | None] = ("", None)  # (mapping file, line)

    @property
    def label(self) -> str:
        """How messages name this source: the file (and zip member)."""
        member = self.options.get("member")
        return f"{self.file}!{member}" if member else (self.file or self.options.get("url") or self.name)


def make_source(spec: SourceSpec) -> "Format":
    """The format object for a source, options checked; MappingError placed at the declaration."""
    cls = FORMATS.get(spec.format)
    if cls is None:
        raise MappingError(f"sources.{spec.name}: unknown format '{spec.format}' (known: {', '.join(FORMATS)})",
                           *spec.declared)
    unknown = sorted(set(spec.options) - COMMON_OPTIONS - cls.options)
    if unknown:
        raise MappingError(f"sources.{spec.name}: {', '.join(unknown)}: not an option of format {spec.format}",
                           *spec.declared)
    return cls(spec)


def format_of(file: str | None, declared: str | None) -> str:
    if declared:
        return declared
    return EXTENSIONS.get(Path(file or "").suffix.lower(), "csv")


class Inputs:
    """The files a run reads: a directory, a zip file, or one file (which serves the source naming it)."""

    def __init__(self, path):
        self.path = Path(path)
        self._zip: zipfile.ZipFile | None = None
        self.spools: dict = {}  # sources read once per run and replayed (replay.py: HTTP sources)
        if self.path.is_dir():
            self.kind = "dir"
        elif self.path.is_file() and (self.path.suffix.lower() == ".zip" or zipfile.is_zipfile(self.path)):
            self.kind = "zip"
            try:
                self._zip = zipfile.ZipFile(self.path)
            except (*_ZIP_ERRORS, OSError) as error:
                raise SourceError(f"{self.path.name}: not a readable zip file (truncated or corrupt: {error})") \
                    from None
            self._members = {i.filename: i for i in self._zip.infolist()
                             if not i.is_dir() and not i.filename.startswith("__MACOSX/")}
        elif self.path.is_file():
            self.kind = "file"
        else:
            raise SourceError(f"{self.path}: no such file or directory")

    def __enter__(self) -> "Inputs":
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def close(self) -> None:
        from .replay import close_spools

        close_spools(self)
        if self._zip is not None:
            self._zip.close()

    def _member(self, name: str) -> str | None:
        if name in self._members:
            return name
        nested = [m for m in self._members if m.endswith("/" + name)]
        return nested[0] if len(nested) == 1 else None  # a zip whose files sit in one folder

    def exists(self, name: str, only: bool = False) -> bool:
        if self.kind == "dir":
            return (self.path / name).is_file()
        if self.kind == "zip":
            return self._member(name) is not None
        return only or Path(name).name == self.path.name

    def open(self, name: str, member: str | None = None, only: bool = False):
        """A binary stream of a file (or of a member of a zip file); SourceError when missing or unreadable."""
        if not self.exists(name, only):
            raise SourceError(f"{name}: not found in {self.path}")
        try:
            if self.kind == "dir":
                stream = open(self.path / name, "rb")
            elif self.kind == "zip":
                stream = self._zip.open(self._member(name))
            else:
                stream = open(self.path, "rb")
        except (*_ZIP_ERRORS, OSError) as error:
            raise SourceError(f"{name}: cannot be read ({error})") from None
        if member is None:
            return stream
        try:
            inner = zipfile.ZipFile(stream)
            return inner.open(member)
        except KeyError:
            raise SourceError(f"{name}: no member {member}") from None
        except (*_ZIP_ERRORS, OSError) as error:
            raise SourceError(f"{name}: not a readable zip file (truncated or corrupt: {error})") from None


class Format:
    """Base of the registered formats; see the module docstring for the interface."""

    name: ClassVar[str] = ""
    options: ClassVar[frozenset] = frozenset()

    def __init__(self, spec: SourceSpec):
        self.spec = spec
        self.label = spec.label
        self.notes: list[str] = []
        self.only = False  # set by the engine when a single-file input serves this (only) source
        self.optional_columns: set = set()  # named by the mapping but allowed to be absent (set by the engine)

    def open(self, inputs: Inputs):
        return inputs.open(self.spec.file, self.spec.options.get("member"), self.only)

    def prepare(self, inputs: Inputs) -> int | None:
        return None

    def reset(self) -> None:
        """Forget what one run learnt about its input: a compiled plan may run again over other inputs."""
        self.notes = []

    def rows(self, inputs: Inputs, wanted: set) -> Iterator[tuple]:
        raise NotImplementedError

    def header(self, inputs: Inputs) -> list[str]:
        """Columns of a sample: by default the union of the members of its first 100 rows."""
        seen: dict[str, None] = {}
        for count, (_where, row, _problem) in enumerate(self.rows(inputs, set())):
            seen.update(dict.fromkeys(row))
            if count >= 99:
                break
        return list(seen)

    def read_all(self, inputs: Inputs) -> bytes:
        try:
            with self.open(inputs) as raw:
                return raw.read()
        except _ZIP_ERRORS as error:
            raise SourceError(f"{self.label}: cannot be read (truncated or corrupt: {error})") from None

    def _canonical(self, header: list[str], wanted: set, case: str) -> list[str]:
        """Header names matched to the names the mapping uses (case-insensitively unless exact)."""
        if case == "exact":
            return header
        folded = {w.casefold(): w for w in wanted}
        return [folded.get(h.casefold(), h) for h in header]

    def _check_required(self, names, where: str) -> None:
        required = self.spec.options.get("required_columns") or ()
        present = {n.casefold() for n in names} if self.spec.options.get("header_case") != "exact" else set(names)
        missing = [c for c in required if (c.casefold() if self.spec.options.get("header_case") != "exact" else c)
                   not in present]
        if missing:
            raise SourceError(f"{where}: missing required column{'s' if len(missing) > 1 else ''} "
                              f"{', '.join(missing)}")


@register
class CsvFormat(Format):
    """Delimited text. Encoding ``auto``: a BOM decides, else UTF-8 when the whole file decodes, else
    Windows-1252 (with a note). Blank lines are skipped; short rows are padded; values are trimmed."""

    name = "csv"
    options = frozenset({"encoding", "delimiter", "quotechar", "header_case", "trim"})
    delimiter = ","

    def __init__(self, spec: SourceSpec):
        super().__init__(spec)
        self.encoding = spec.options.get("encoding", "auto")
        if self.encoding != "auto":
            try:
                codecs.lookup(self.encoding)
            except LookupError:
                raise MappingError(f"sources.{spec.name}: unknown encoding '{self.encoding}'", *spec.declared) \
                    from None
        self.delimiter = spec.options.get("delimiter", self.delimiter)
        self.quotechar = spec.options.get("quotechar", '"')
        self.case = spec.options.get("header_case", "insensitive")
        self.trim = spec.options.get("trim", True)
        self.detected: str | None = None
        self.lines: int | None = None

    def reset(self) -> None:
        super().reset()
        self.detected = self.lines = None

    def prepare(self, inputs: Inputs) -> int | None:
        if self.encoding == "auto" and self.detected is None:
            self.detected = self._detect(inputs)
        return None if self.lines is None else max(self.lines - 1, 0)

    def _detect(self, inputs: Inputs) -> str:
        """One pass over the bytes: BOM, UTF-8 validity and the line count (for the progress bar)."""
        decoder = codecs.getincrementaldecoder("utf-8")()
        lines, bad, last = 0, None, b"\n"
        try:
            with self.open(inputs) as raw:
                head = raw.read(4)
                for bom, name in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                                  (codecs.BOM_UTF16_BE, "utf-16")):
                    if head.startswith(bom):
                        return name
                chunk = head + raw.read(_CHUNK)
                while chunk:
                    if bad is None:
                        try:
                            decoder.decode(chunk)
                        except UnicodeDecodeError as error:
                            bad = (lines + chunk[:error.start].count(b"\n") + 1, chunk[error.start])
                    lines, last = lines + chunk.count(b"\n"), chunk[-1:]
                    chunk = raw.read(_CHUNK)
        except _ZIP_ERRORS as error:
            raise SourceError(f"{self.label}: cannot be read (truncated or corrupt: {error})") from None
        self.lines = lines + (last != b"\n")
        if bad is None:
            return "utf-8"
        self.notes.append(f"{self.label}:{bad[0]}: not UTF-8 (byte 0x{bad[1]:02x}); read as Windows-1252")
        return "cp1252"

    def _decode_error(self, inputs: Inputs, encoding: str) -> str:
        with self.open(inputs) as raw:
            for number, line in enumerate(raw, 1):
                try:
                    line.decode(encoding)
                except UnicodeDecodeError as error:
                    return (f"{self.label}:{number}: encoding: not {encoding} (byte 0x{line[error.start]:02x}); "
                            f"declare the file's encoding in the mapping or save it as UTF-8")
        return f"{self.label}: encoding: not {encoding}"

    def _open_text(self, inputs: Inputs):
        encoding = self.encoding if self.encoding != "auto" else (self.detected or self._detect(inputs))
        self.detected = encoding
        return encoding, io.TextIOWrapper(self.open(inputs), encoding=encoding, newline="")

    def header(self, inputs: Inputs) -> list[str]:
        for _where, row, _problem in self.rows(inputs, set(), header_only=True):
            return list(row)
        return []

    def rows(self, inputs: Inputs, wanted: set, header_only: bool = False) -> Iterator[tuple]:
        encoding, stream = self._open_text(inputs)
        label, trim = self.label, self.trim
        reader = csv.reader(stream, delimiter=self.delimiter, quotechar=self.quotechar, strict=True)
        header: list[str] | None = None
        previous = 0
        try:
            with stream:
                for cells in reader:
                    start, previous = previous + 1, reader.line_num
                    if not cells or (len(cells) == 1 and not cells[0].strip()):
                        continue
                    if header is None:
                        header = self._header(cells, wanted)
                        width = len(header)
                        if header_only:
                            yield 1, dict.fromkeys(header), None
                            return
                        continue
                    if trim:
                        cells = [c.strip() for c in cells]
                    if len(cells) > width and any(cells[width:]):
                        yield start, dict(zip(header, cells)), \
                            f"row: {len(cells)} values but the header has {width} columns"
                        continue
                    yield start, dict(zip(header, cells)), None
        except UnicodeDecodeError:
            raise SourceError(self._decode_error(inputs, encoding)) from None
        except csv.Error as error:
            raise SourceError(f"{label}:{reader.line_num}: not valid CSV ({error})") from None
        except _ZIP_ERRORS as error:
            raise SourceError(f"{label}: cannot be read (truncated or corrupt: {error})") from None
        if header is None:
            raise SourceError(f"{label}: empty file (no header row)")

    def _header(self, cells: list[str], wanted: set) -> list[str]:
        names = [c.strip() for c in cells]
        names = self._canonical(names, wanted, self.case)
        seen: dict[str, int] = {}
        for position, name in enumerate(names, 1):
            key = name if self.case == "exact" else name.casefold()
            if not name:
                raise SourceError(f"{self.label}:1: header: column {position} has no name")
            if key in seen:
                raise SourceError(f"{self.label}:1: header: column '{name}' appears twice (columns {seen[key]} "
                                  f"and {position})")
            seen[key] = position
        self._check_required(names, f"{self.label}:1: header")
        present = set(names) if self.case == "exact" else {n.casefold() for n in names}
        absent = sorted(w for w in wanted - self.optional_columns
                        if (w if self.case == "exact" else w.casefold()) not in present)
        if absent:
            self.notes.append(f"{self.label}:1: header: no column {', '.join(absent)} (used by the mapping; "
                              "treated as empty)")
        return names


@register
class TsvFormat(CsvFormat):
    name = "tsv"
    delimiter = "\t"


from . import sources_json  # noqa: E402,F401  (registers the json and jsonl formats)
from . import sources_xml  # noqa: E402,F401  (registers the xml format)
from . import sources_http  # noqa: E402,F401  (registers the http format)
