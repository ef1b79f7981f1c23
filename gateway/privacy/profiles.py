"""Per-app field profiles: Ed-Fi API Profile XML turned into the readable and writable field trees of each resource.

Why Ed-Fi's profile format for OneRoster too: districts already know it from the ODS/API and DMS, it has a published
XSD, and one format lets one admin workflow govern both standards. Resource names are OneRoster class names (or
collection names), member names are OneRoster field names; the tier rules live in ``profile_rules``.

Why the parser is hardened: profiles are uploaded by administrators through an API, so the XML is untrusted input.
No DTD is loaded, no entity is expanded, nothing is fetched from the network, and a document type declaration is
refused outright (XXE, billion laughs).

A field tree is a dict: field name → ``None`` (the whole value) or a nested tree for an object / array-of-objects
field; a Collection's subtree may carry ``"__filter__": {"property", "mode", "values"}`` keeping only the array
elements whose property value is (``IncludeOnly``) or is not (``ExcludeOnly``) in ``values``.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from lxml import etree

import standards
from gateway.privacy.profile_rules import (BASE_FIELDS, FILTER_KEY, MEMBER_TAGS, Filter, Member, ProfileError,
                                           Rules, default_tree, resource_names)

__all__ = ["BASE_FIELDS", "FILTER_KEY", "FieldTree", "Profile", "ProfileError", "ProfileSet", "ResourceRule",
           "default_view", "freeze", "named_fields", "parse_profile", "thaw"]

FieldTree = dict  # field name -> None | FieldTree, plus an optional FILTER_KEY entry on a Collection's subtree
MAX_BYTES = 1 << 20  # profiles are a few KB; the official ODS test set is 44 KB
XSD_DIR = Path(standards.__file__).resolve().parent / "edfi" / "profiles"
_SCHEMA_FILES = {"Profiles": "Ed-Fi-ODS-API-Profiles.xsd", "Profile": "DMS_Ed-Fi-ODS-API-Profile.xsd"}
_SCHEMA_LOCK = threading.Lock()


@dataclass(frozen=True)
class ResourceRule:
    """One ``<Resource>`` as written: the name used, the class it resolved to, and its two content types."""

    name: str
    cls: str
    line: int
    read: Member | None
    write: Member | None


@dataclass(frozen=True, eq=False)
class Profile:
    """A named profile. ``readable``/``writable`` answer None for a class the profile does not grant."""

    name: str
    line: int
    resources: Mapping[str, ResourceRule]
    _read: Mapping[str, tuple] | None = None
    _write: Mapping[str, tuple] | None = None
    _aliases: Mapping[str, str] = field(default_factory=dict, repr=False)

    def readable(self, class_name: str) -> FieldTree | None:
        """Fields of ``class_name`` an app with this profile may read; None: the app may not read that resource."""
        return self._tree(self._read, class_name)

    def writable(self, class_name: str) -> FieldTree | None:
        """Fields of ``class_name`` an app with this profile may write; None: no writes to that resource."""
        return self._tree(self._write, class_name)

    def _tree(self, trees: Mapping[str, tuple] | None, class_name: str) -> FieldTree | None:
        if trees is None:
            raise RuntimeError(f"profile {self.name!r} was parsed without a model; it has no field trees")
        frozen = trees.get(self._aliases.get(class_name.lower(), class_name))
        return None if frozen is None else thaw(frozen)


@dataclass(frozen=True)
class ProfileSet:
    """Every profile of one document, by name (a DMS-style ``<Profile>`` document holds exactly one)."""

    source: str
    profiles: dict[str, Profile]

    def __getitem__(self, name: str) -> Profile:
        return self.profiles[name]

    def __iter__(self):
        return iter(self.profiles.values())

    def __len__(self) -> int:
        return len(self.profiles)


# --- parsing --------------------------------------------------------------------------------------------------------

def _parser() -> etree.XMLParser:
    """A parser that can neither fetch nor expand anything (new per call, so concurrent requests never share one)."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, collect_ids=False, remove_pis=True)


@functools.cache
def _schema(root_tag: str) -> etree.XMLSchema:
    path = XSD_DIR / _SCHEMA_FILES[root_tag]
    return etree.XMLSchema(etree.parse(str(path), _parser()))


def _doctype_line(data: bytes) -> int | None:
    """Line of a ``<!DOCTYPE``/``<!ENTITY`` declaration (UTF-8 or UTF-16), found before libxml2 sees any of it."""
    for marker in (b"<!DOCTYPE", b"<!ENTITY"):
        for encoding in ("utf-8", "utf-16-le", "utf-16-be"):
            needle = marker.decode().encode(encoding)
            at = data.find(needle)
            if at >= 0:
                return data.count("\n".encode(encoding), 0, at) + 1
    return None


def _load(data: bytes, source: str) -> Any:
    """Well-formed, DTD-free, XSD-valid root element, or ProfileError."""
    if len(data) > MAX_BYTES:
        raise ProfileError(source, 1, f"document is {len(data)} bytes; profiles are limited to {MAX_BYTES}")
    doctype = _doctype_line(data)
    if doctype is not None:
        raise ProfileError(source, doctype, "<!DOCTYPE> is not allowed in a profile (no DTDs, no entities)")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as error:
        raise ProfileError(source, error.lineno, f"malformed XML: {error.msg}") from None
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:  # other encodings: backstop
        raise ProfileError(source, 1, "<!DOCTYPE> is not allowed in a profile (no DTDs, no entities)")
    if root.tag not in _SCHEMA_FILES:
        raise ProfileError(source, root.sourceline, f"root element <{root.tag}> is neither <Profiles> nor <Profile>")
    schema = _schema(root.tag)
    with _SCHEMA_LOCK:  # the error log lives on the shared schema object
        valid = schema.validate(root)
        errors = list(schema.error_log)
    if not valid:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        first = errors[0]
        raise ProfileError(source, first.line, f"does not match the profile XSD ({_SCHEMA_FILES[root.tag]}): "
                                               f"{first.message}{more}")
    return root


def _children(el: Any, *tags: str) -> list:
    return [child for child in el if isinstance(child.tag, str) and child.tag in tags]


def _member(el: Any) -> Member:
    flt = None
    for f_el in _children(el, "Filter"):
        values = _children(f_el, "Value")
        flt = Filter(f_el.get("propertyName"), f_el.get("filterMode"), tuple((v.text or "").strip() for v in values),
                     f_el.sourceline, tuple(v.sourceline for v in values))
    return Member(el.tag, el.get("name"), el.get("memberSelection"), el.sourceline,
                  tuple(_member(child) for child in _children(el, *MEMBER_TAGS)), flt)


def _content(resource_el: Any, tag: str) -> Member | None:
    found = _children(resource_el, tag)
    return _member(found[0]) if found else None


def parse_profile(xml: bytes | str, model: Any, *, source: str = "profile.xml") -> ProfileSet:
    """Parse, validate (XSD, then the standards model) and compile a profile document.

    ``model=None`` checks only well-formedness and the XSD (for Ed-Fi documents that name Ed-Fi resources); such
    profiles have no field trees. Every problem raises :class:`ProfileError` naming ``source:line``.
    """
    data = xml.encode("utf-8") if isinstance(xml, str) else bytes(xml)
    root = _load(data, source)
    rules = Rules(model, source) if model is not None else None
    aliases = MappingProxyType(resource_names(model)) if model is not None else MappingProxyType({})
    profiles: dict[str, Profile] = {}
    for p_el in ([root] if root.tag == "Profile" else _children(root, "Profile")):
        name = (p_el.get("name") or "").strip()
        if not name:
            raise ProfileError(source, p_el.sourceline, "Profile has an empty name")
        if name in profiles:
            raise ProfileError(source, p_el.sourceline,
                               f"Profile '{name}' is defined twice (first on line {profiles[name].line})")
        resources: dict[str, ResourceRule] = {}
        for r_el in _children(p_el, "Resource"):
            raw = r_el.get("name")
            cls = rules.resolve_resource(raw, r_el.sourceline) if rules else raw.strip()
            key = cls if rules else cls.lower()
            if key in resources:
                raise ProfileError(source, r_el.sourceline, f"Resource '{raw}' appears twice in profile '{name}' "
                                                            f"(first on line {resources[key].line})")
            resources[key] = ResourceRule(raw, cls, r_el.sourceline, _content(r_el, "ReadContentType"),
                                          _content(r_el, "WriteContentType"))
        read = write = None
        if rules is not None:
            read = MappingProxyType({c: freeze(rules.compile_resource(c, r.read))
                                     for c, r in resources.items() if r.read is not None})
            write = MappingProxyType({c: freeze(rules.compile_resource(c, r.write))
                                      for c, r in resources.items() if r.write is not None})
        profiles[name] = Profile(name, p_el.sourceline, MappingProxyType(resources), read, write, aliases)
    return ProfileSet(source, profiles)


# --- field trees ----------------------------------------------------------------------------------------------------

def default_view(model: Any, class_name: str) -> FieldTree:
    """What an app without a profile may read of a class: its tier 0 fields (nested objects too)."""
    cls = resource_names(model).get(class_name.lower(), class_name)
    return thaw(_default_frozen(model, cls))


@functools.lru_cache(maxsize=256)
def _default_frozen(model: Any, class_name: str) -> tuple:
    return freeze(default_tree(model, class_name))


def freeze(tree: FieldTree) -> tuple:
    """A hashable, order-independent form of a field tree (a cache key); :func:`thaw` reverses it."""
    items = []
    for name, sub in tree.items():
        if name == FILTER_KEY:
            items.append((name, (sub["property"], sub["mode"], tuple(sorted(sub["values"])))))
        else:
            items.append((name, None if sub is None else freeze(sub)))
    return tuple(sorted(items, key=lambda item: item[0]))


def thaw(frozen: tuple) -> FieldTree:
    tree: FieldTree = {}
    for name, sub in frozen:
        if name == FILTER_KEY:
            prop, mode, values = sub
            tree[name] = {"property": prop, "mode": mode, "values": frozenset(values)}
        else:
            tree[name] = None if sub is None else thaw(sub)
    return tree


def named_fields(profile: Profile) -> set[str]:
    """Dotted paths (``User.roles.role``) that the profile names anywhere, read or write, filters included."""
    out: set[str] = set()

    def walk(node: Member, prefix: str) -> None:
        for m in node.members:
            out.add(f"{prefix}.{m.name}")
            walk(m, f"{prefix}.{m.name}")
        if node.filter is not None:
            out.add(f"{prefix}.{node.filter.property}")

    for rule in profile.resources.values():
        for content in (rule.read, rule.write):
            if content is not None:
                walk(content, rule.cls)
    return out
