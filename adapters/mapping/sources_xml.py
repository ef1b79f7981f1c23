"""The ``xml`` source format: records selected by XPath (with namespaces), parsed with a hardened lxml parser.

Why hardened: exports arrive from outside, and an XML file can ask the parser to fetch URLs or files (external
entities) or to expand entities exponentially ("billion laughs"). The parser here never touches the network, never
loads DTDs nor substitutes entities, and any document type declaration is refused outright: roster exports have no
use for one.

    sources:
      students:
        file: StudentPersonal.xml
        records: //sif:StudentPersonal
        namespaces: {sif: "http://www.sifinfo.org/infrastructure/2.x"}
        columns: {id: "@RefId", last: "sif:Name/sif:LastName"}   # XPaths relative to each record
        # every match of an XPath, as a list of texts: {xpath: "sif:GradeLevels/sif:GradeLevel/sif:Code", list: true}

Without ``columns``, each record's attributes become ``@name`` columns and its child elements (by local name) become
columns holding their text (a repeated child element: its first occurrence). Values are text; an XPath that finds
nothing gives None, or an empty list for a ``list`` column.
"""
from __future__ import annotations

from typing import Iterator

from lxml import etree

from .errors import MappingError, SourceError
from .sources import Format, Inputs, SourceSpec, register


def secure_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_comments=True, remove_pis=True)


def _xpath(expression: str, namespaces: dict, what: str, spec: SourceSpec) -> etree.XPath:
    try:
        return etree.XPath(expression, namespaces=namespaces, smart_strings=False)
    except (etree.XPathError, TypeError, ValueError) as error:  # TypeError: an empty namespace prefix
        raise MappingError(f"sources.{spec.name}: {what}: bad XPath '{expression}' ({error})", *spec.declared) \
            from None


def _texts(found) -> list[str]:
    """Every match of a ``list`` column, as text (blank matches left out)."""
    values = [_text(f) for f in (found if isinstance(found, list) else [found])]
    return [v for v in values if v]


def _text(found) -> str | None:
    if isinstance(found, list):
        if not found:
            return None
        found = found[0]
    if isinstance(found, etree._Element):
        return "".join(found.itertext()).strip()
    if isinstance(found, bool):
        return "true" if found else "false"
    if isinstance(found, float):
        return str(int(found)) if found.is_integer() else str(found)
    return None if found is None else str(found).strip()


@register
class XmlFormat(Format):
    name = "xml"
    options = frozenset({"records", "namespaces", "columns"})

    def __init__(self, spec: SourceSpec):
        super().__init__(spec)
        namespaces = spec.options.get("namespaces") or {}
        self.records = _xpath(spec.options.get("records") or "/*/*", namespaces, "records", spec)
        self.columns, self.lists = {}, set()
        for name, path in (spec.options.get("columns") or {}).items():
            if isinstance(path, dict):
                if set(path) - {"xpath", "list"} or not isinstance(path.get("xpath"), str):
                    raise MappingError(f"sources.{spec.name}: columns.{name}: an XPath, or {{xpath: ..., list: true}}",
                                       *spec.declared)
                if path.get("list"):
                    self.lists.add(name)
                path = path["xpath"]
            self.columns[name] = _xpath(path, namespaces, f"columns.{name}", spec)

    def _parse(self, inputs: Inputs):
        raw = self.read_all(inputs)
        try:
            tree = etree.fromstring(raw, secure_parser()).getroottree()
        except etree.XMLSyntaxError as error:
            line = error.position[0] if error.position else None
            where = f"{self.label}:{line}" if line else self.label
            raise SourceError(f"{where}: not well-formed XML ({error.msg})") from None
        if tree.docinfo.internalDTD is not None or tree.docinfo.doctype:
            raise SourceError(f"{self.label}: document type declarations (DOCTYPE, entities) are refused: they "
                              "can expand entities or read other files")
        return tree

    def rows(self, inputs: Inputs, wanted: set) -> Iterator[tuple]:
        tree = self._parse(inputs)
        try:
            found = self.records(tree)
        except etree.XPathEvalError as error:
            raise SourceError(f"{self.label}: records XPath cannot be evaluated ({error})") from None
        if not isinstance(found, list):
            raise SourceError(f"{self.label}: the records XPath must select elements")
        for element in found:
            if not isinstance(element, etree._Element):
                raise SourceError(f"{self.label}: the records XPath must select elements")
            where = element.sourceline or 0
            try:
                row = {name: (_texts if name in self.lists else _text)(path(element))
                       for name, path in self.columns.items()} if self.columns else self._default_row(element)
            except etree.XPathEvalError as error:
                yield where, {}, f"record: an XPath cannot be evaluated ({error})"
                continue
            self._check_required(row, f"{self.label}:{where}")
            yield where, row, None

    @staticmethod
    def _default_row(element) -> dict:
        row = {f"@{etree.QName(k).localname}": v for k, v in element.attrib.items()}
        for child in element:
            if isinstance(child.tag, str):
                row.setdefault(etree.QName(child).localname, _text(child))
        return row
