"""Per-app field profiles: parsing, XSD and model validation, tier rules, field trees (gateway/privacy/profiles.py).

Fixtures in tests/fixtures/profiles/: our OneRoster profiles, and the Ed-Fi ODS test profile set
(``EdFi.Ods.Profiles.Test__Profiles.xml``, byte-for-byte from Ed-Fi-Alliance-OSS/Ed-Fi-ODS @24fe66cf,
``Application/EdFi.Ods.Profiles.Test/Profiles.xml``) used only to prove that real-world documents pass the XSD.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from gateway.privacy.profiles import (FILTER_KEY, ProfileError, default_view, freeze, named_fields, parse_profile,
                                      thaw)
from standards.model import load_model, model_from_dict

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "profiles"
MODEL = load_model("oneroster", "1.2")
BASE = {"sourcedId", "status", "dateLastModified"}


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def doc(content: str, resource: str = "User", mode: str = "IncludeOnly", name: str = "P") -> str:
    """A one-profile document; line 4 is the first line of ``content``."""
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<Profile name="{name}">\n'
            f'  <Resource name="{resource}"><ReadContentType memberSelection="{mode}">\n'
            f"{content}\n  </ReadContentType></Resource>\n</Profile>\n")


def readable(content: str, resource: str = "User", mode: str = "IncludeOnly") -> dict | None:
    profile = parse_profile(doc(content, resource, mode), MODEL)["P"]
    return profile.readable(resource)


def error_of(xml: str | bytes, model=MODEL, source: str = "profile.xml") -> ProfileError:
    with pytest.raises(ProfileError) as caught:
        parse_profile(xml, model, source=source)
    return caught.value


def line_of(text: str, needle: str) -> int:
    return text[:text.index(needle)].count("\n") + 1


def all_subtrees(tree: dict):
    for name, sub in tree.items():
        if isinstance(sub, dict) and name != FILTER_KEY:
            yield sub
            yield from all_subtrees(sub)


# --- member selection -------------------------------------------------------------------------------------------

def test_include_only_top_level_grants_named_fields_and_base_fields():
    tree = readable('<Property name="givenName" /><Property name="primaryOrg" />')
    assert tree == {"givenName": None, "primaryOrg": None, **dict.fromkeys(BASE)}


def test_include_only_with_no_members_grants_only_base_fields():
    assert readable("") == dict.fromkeys(BASE)


def test_exclude_only_top_level_grants_tier_0_and_1_minus_the_named():
    tree = readable('<Property name="phone" /><Collection name="roles" memberSelection="IncludeAll" />',
                    mode="ExcludeOnly")
    assert "phone" not in tree and "roles" not in tree  # a named Collection is excluded as a whole (ODS semantics)
    assert {"givenName", "sms", "userIds", "userProfiles", "agents"} <= set(tree)
    assert not {"pronouns", "metadata", "password"} & set(tree)


def test_include_all_grants_tier_0_and_1_never_2_or_3():
    tree = readable("", mode="IncludeAll")
    assert {"givenName", "phone", "sms", "userIds", "userMasterIdentifier", "roles"} <= set(tree)
    assert not {"pronouns", "metadata", "password"} & set(tree)
    assert tree["userProfiles"]["credentials"] == {"type": None, "username": None}  # Credential.password is T3


def test_exclude_all_top_level_leaves_only_base_fields():
    assert readable("", mode="ExcludeAll") == dict.fromkeys(BASE)


def test_nested_include_only_role_and_user_id():
    tree = readable('<Collection name="roles" memberSelection="IncludeOnly"><Property name="role" />'
                    '<Property name="org" /></Collection>'
                    '<Collection name="userIds" memberSelection="IncludeOnly"><Property name="identifier" />'
                    "</Collection>")
    assert tree["roles"] == {"role": None, "org": None}
    assert tree["userIds"] == {"identifier": None}


def test_nested_exclude_only_role():
    tree = readable('<Collection name="roles" memberSelection="ExcludeOnly"><Property name="userProfile" />'
                    '<Property name="beginDate" /></Collection>')
    assert tree["roles"] == {"roleType": None, "role": None, "org": None, "endDate": None}


def test_nested_include_all_and_exclude_all():
    tree = readable('<Collection name="roles" memberSelection="IncludeAll" />'
                    '<Collection name="userIds" memberSelection="ExcludeAll" />')
    assert set(tree["roles"]) == {"roleType", "role", "org", "userProfile", "beginDate", "endDate"}
    assert "userIds" not in tree


def test_include_all_refined_by_nested_members():
    tree = readable('<Object name="primaryOrg" memberSelection="ExcludeAll" />'
                    '<Collection name="roles" memberSelection="IncludeOnly"><Property name="role" /></Collection>'
                    '<Collection name="userIds" memberSelection="ExcludeOnly"><Property name="type" /></Collection>',
                    mode="IncludeAll")
    assert "primaryOrg" not in tree
    assert tree["roles"] == {"role": None}
    assert tree["userIds"] == {"identifier": None}
    assert "givenName" in tree


def test_guidref_and_string_arrays_are_leaves():
    tree = readable('<Object name="primaryOrg" memberSelection="IncludeAll" />'
                    '<Collection name="agents" memberSelection="IncludeAll" />'
                    '<Collection name="grades" memberSelection="IncludeAll" />')
    assert tree["primaryOrg"] is None and tree["agents"] is None and tree["grades"] is None


def test_no_subtree_is_ever_empty():
    """Renderers read an empty subtree as 'whole object', so a member that keeps nothing must be left out."""
    for name in ("oneroster_profiles.xml", "single_profile.xml"):
        for profile in parse_profile(fixture(name), MODEL):
            for cls in profile.resources:
                for tree in (profile.readable(cls), profile.writable(cls)):
                    if tree is not None:
                        assert all(any(k != FILTER_KEY for k in sub) for sub in all_subtrees(tree))
    assert all(sub for sub in all_subtrees(readable("", mode="IncludeAll")))


# --- fixtures, both roots -----------------------------------------------------------------------------------------

def test_profiles_root_with_several_profiles():
    profiles = parse_profile(fixture("oneroster_profiles.xml"), MODEL, source="oneroster_profiles.xml")
    assert set(profiles.profiles) == {"Reading-App", "Sis-Sync"}
    reading = profiles["Reading-App"]
    assert set(reading.resources) == {"User", "Demographics", "Class"}  # collection name and case resolved
    user = reading.readable("User")
    assert user["roles"][FILTER_KEY] == {"property": "role", "mode": "IncludeOnly",
                                         "values": frozenset({"student", "teacher"})}
    assert "userProfile" not in user["roles"] and user["userIds"] == {"identifier": None}
    assert reading.readable("users") == user  # lookup accepts the same names as <Resource>
    assert reading.readable("Org") is None  # not in the profile: the app may not see orgs at all
    assert reading.writable("User") is None  # no WriteContentType


def test_write_content_types():
    sis = parse_profile(fixture("oneroster_profiles.xml"), MODEL)["Sis-Sync"]
    write = sis.writable("User")
    assert "primaryOrg" not in write and "userIds" not in write
    assert write["roles"][FILTER_KEY] == {"property": "roleType", "mode": "ExcludeOnly",
                                          "values": frozenset({"secondary"})}
    assert sis.writable("Org") == {"name": None, **dict.fromkeys(BASE)}
    assert sis.readable("Org") == dict.fromkeys(BASE)  # ExcludeAll: ids only
    assert sis.readable("Enrollment") is None and sis.writable("Enrollment") is not None
    read = sis.readable("User")
    assert "phone" not in read and "userProfiles" not in read and "givenName" in read


def test_single_profile_root_per_dms_xsd():
    profiles = parse_profile(fixture("single_profile.xml"), MODEL)
    assert list(profiles.profiles) == ["Roster-Core"]
    core = profiles["Roster-Core"]
    assert core.readable("User")["roles"] == {"role": None, "org": None}
    assert core.readable("Course") == {"title": None, "org": None, "grades": None, **dict.fromkeys(BASE)}


def test_official_ods_test_profiles_pass_the_xsd():
    profiles = parse_profile(fixture("EdFi.Ods.Profiles.Test__Profiles.xml"), None)
    assert len(profiles) == 52
    school = profiles["Test-Profile-Resource-Child-Collection-Filtered-To-IncludeOnly-Specific-Descriptors"]
    assert "School.EducationOrganizationAddresses.AddressTypeDescriptor" in named_fields(school)
    with pytest.raises(RuntimeError):
        school.readable("School")  # no model, no field trees


def test_str_input_with_encoding_declaration_and_bom():
    text = doc('<Property name="givenName" />')
    assert parse_profile(text, MODEL)["P"].readable("User")["givenName"] is None
    assert len(parse_profile(b"\xef\xbb\xbf" + text.encode(), MODEL)) == 1


# --- tiers ------------------------------------------------------------------------------------------------------------

def test_tier_2_only_when_named_in_include_only():
    assert "pronouns" in readable('<Property name="pronouns" />')
    assert readable('<Property name="birthDate" />', resource="Demographics")["birthDate"] is None
    assert "birthDate" not in readable("", resource="Demographics", mode="IncludeAll")
    assert "pronouns" not in readable('<Property name="phone" />', mode="ExcludeOnly")
    assert "pronouns" not in readable('<Property name="pronouns" />', mode="ExcludeOnly")  # excluding is harmless


def test_property_under_include_all_is_an_error_not_a_grant():
    text = doc('<Property name="pronouns" />', mode="IncludeAll")
    assert "no effect under IncludeAll" in str(error_of(text))


def _field(name, type_="string", tier=0, many=False, cls=None, enum=None):
    return {"name": name, "type": type_, "required": False, "many": many, "min_items": None, "enum": enum,
            "ext": False, "ref": None, "cls": cls, "tier": tier, "description": ""}


# A tiny model with what OneRoster 1.2 lacks: a tier-2 array of objects, and a tier-2 scalar inside a tier-0 one.
TOY = model_from_dict({"standard": "toy", "version": "1", "classes": {
    "Thing": {"base": True, "fields": [_field("sourcedId"), _field("status"), _field("dateLastModified"),
                                       _field("notes", "object", 2, True, "Note"),
                                       _field("tags", "object", 0, True, "Tag")]},
    "Note": {"base": False, "fields": [_field("text"), _field("author")]},
    "Tag": {"base": False, "fields": [_field("label"), _field("kind", tier=2, enum=["a", "b"])]},
}})


def toy_readable(content: str, mode: str = "IncludeOnly") -> dict:
    return parse_profile(doc(content, "Thing", mode), TOY)["P"].readable("Thing")


def test_tier_2_containers_make_their_members_tier_2():
    assert "notes" not in toy_readable("", mode="IncludeAll")
    error = error_of(doc('<Collection name="notes" memberSelection="IncludeAll" />', "Thing"), TOY)
    assert error.line == 4 and "grants no field of Note" in str(error)  # named, yet its members are all tier 2
    tree = toy_readable('<Collection name="notes" memberSelection="IncludeOnly"><Property name="text" />'
                        "</Collection>")
    assert tree["notes"] == {"text": None}
    error = error_of(doc('<Collection name="notes" memberSelection="IncludeAll" />', "Thing", "IncludeAll"), TOY)
    assert error.line == 4 and "granted only when named in an IncludeOnly list" in str(error)


def test_filtering_on_a_tier_2_property_needs_it_named():
    filt = '<Filter propertyName="kind" filterMode="IncludeOnly"><Value>a</Value></Filter>'
    error = error_of(doc(f'<Collection name="tags" memberSelection="IncludeAll">\n{filt}</Collection>', "Thing"),
                     TOY)
    assert error.line == 5 and "discloses it" in str(error)
    tree = toy_readable(f'<Collection name="tags" memberSelection="IncludeOnly"><Property name="label" />'
                        f'<Property name="kind" />{filt}</Collection>')
    assert tree["tags"][FILTER_KEY]["values"] == frozenset({"a"}) and "kind" in tree["tags"]
    assert toy_readable("", mode="IncludeAll")["tags"] == {"label": None}


@pytest.mark.parametrize("content, mode", [
    ('<Property name="password" />', "IncludeOnly"),
    ('<Property name="password" />', "ExcludeOnly"),
    ('<Collection name="userProfiles" memberSelection="IncludeOnly">\n<Collection name="credentials" '
     'memberSelection="ExcludeOnly"><Property name="password" /></Collection></Collection>', "IncludeOnly"),
    ('<Collection name="userProfiles" memberSelection="IncludeAll">\n<Collection name="credentials" '
     'memberSelection="IncludeOnly"><Property name="password" /></Collection></Collection>', "IncludeAll"),
])
def test_tier_3_refused_wherever_named(content, mode):
    text = doc(content, mode=mode)
    error = error_of(text)
    assert error.line == line_of(text, '"password"')
    assert "password is a prohibited field (tier 3) and can never be granted" in str(error)


def test_tier_3_filter_property_refused():
    text = doc('<Collection name="userProfiles" memberSelection="IncludeOnly">\n'
               '<Collection name="credentials" memberSelection="IncludeOnly"><Property name="type" />\n'
               '<Filter propertyName="password" filterMode="IncludeOnly"><Value>x</Value></Filter>\n'
               "</Collection></Collection>")
    error = error_of(text)
    assert error.line == line_of(text, "<Filter") and "prohibited field (tier 3)" in str(error)


def test_default_view_is_tier_0_only():
    user = default_view(MODEL, "User")
    assert not {"phone", "sms", "userIds", "password", "pronouns", "metadata", "userMasterIdentifier",
                "userProfiles", "agents", "resources"} & set(user)
    assert {"givenName", "familyName", "username", "email", "enabledUser", "grades", "primaryOrg"} <= set(user)
    assert set(user["roles"]) == {"roleType", "role", "org", "userProfile", "beginDate", "endDate"}
    assert default_view(MODEL, "Demographics") == dict.fromkeys(BASE)
    assert default_view(MODEL, "demographics") == dict.fromkeys(BASE)
    assert set(default_view(MODEL, "LineItem")) == BASE  # gradebook classes are tier 1


# --- errors name source:line --------------------------------------------------------------------------------------

def test_unknown_field_with_suggestion():
    text = doc('<Property name="birthdate" />', resource="Demographics")
    error = error_of(text)
    assert str(error) == ("profile.xml:4: Property 'birthdate' is not a field of Demographics "
                          "(did you mean 'birthDate'?)")


def test_unknown_nested_field_names_the_nested_class():
    text = doc('<Collection name="roles" memberSelection="IncludeOnly">\n<Property name="rol" /></Collection>')
    error = error_of(text, source="apps/reading.xml")
    line = line_of(text, '"rol"')
    assert str(error).startswith(f"apps/reading.xml:{line}: Property 'rol' is not a field of Role (User.roles)")
    assert "did you mean 'role'?" in str(error)


def test_unknown_resource_with_suggestion():
    text = doc("", resource="Enrolment")
    error = error_of(text)
    assert error.line == 3 and "Resource 'Enrolment' is not a OneRoster 1.2 resource" in str(error)
    assert "did you mean 'Enrollment'?" in str(error)
    assert "not a OneRoster 1.2 resource" in str(error_of(doc("", resource="Role")))  # not a resource class


def test_filtered_view_collections_are_refused():
    error = error_of(doc("", resource="students"))
    assert error.line == 3 and "filtered view of User" in str(error)


@pytest.mark.parametrize("content, line, expected", [
    ('<Object name="givenName" memberSelection="IncludeAll" />', 4, "Object 'givenName' of User is a string field"),
    ('<Object name="roles" memberSelection="IncludeAll" />', 4, "use Collection"),
    ('<Collection name="primaryOrg" memberSelection="IncludeAll" />', 4, "not an array; use Object"),
    ('<Collection name="givenName" memberSelection="IncludeAll" />', 4, "not an array; use Property"),
    ('<Property name="roles" />', 4, "an array of Role objects; use Collection"),
    ('<Object name="primaryOrg" memberSelection="IncludeOnly"><Property name="sourcedId" /></Object>', 4,
     "readable only as a whole"),
    ('<Collection name="roles" memberSelection="IncludeOnly" />', 4, "names no fields"),
    ('<Collection name="userIds" memberSelection="ExcludeOnly"><Property name="type" />'
     '<Property name="identifier" /></Collection>', 4, "grants no field of UserId"),
    ('<Extension name="x" memberSelection="IncludeAll" />', 4, "no Ed-Fi extensions"),
    ('<Property name="givenName" />\n<Property name="givenName" />', 5, "named twice (first on line 4)"),
    ('<Collection name="roles" memberSelection="IncludeAll">\n'
     '<Filter propertyName="org" filterMode="IncludeOnly"><Value>x</Value></Filter></Collection>', 5,
     "a filter needs a single-valued field"),
    ('<Collection name="roles" memberSelection="IncludeAll">\n'
     '<Filter propertyName="rle" filterMode="IncludeOnly"><Value>x</Value></Filter></Collection>', 5,
     "did you mean 'role'?"),
    ('<Collection name="roles" memberSelection="IncludeAll">\n'
     '<Filter propertyName="role" filterMode="IncludeOnly"><Value>student</Value>\n<Value>studnet</Value>'
     "</Filter></Collection>", 6, "Value 'studnet' is not a valid Role.role value (did you mean 'student'?)"),
    ('<Collection name="agents" memberSelection="IncludeAll">\n'
     '<Filter propertyName="type" filterMode="IncludeOnly"><Value>user</Value></Filter></Collection>', 4,
     "readable only as a whole"),
])
def test_model_errors_name_the_line(content, line, expected):
    error = error_of(doc(content))
    assert expected in str(error)
    assert error.line == line and str(error).startswith(f"profile.xml:{line}: ")


@pytest.mark.parametrize("content, mode, expected", [
    ('<Collection name="roles" memberSelection="ExcludeOnly">\n<Property name="org" /></Collection>',
     "ExcludeOnly", "excluded as a whole under ExcludeOnly"),
    ('<Property name="sourcedId" />', "ExcludeOnly", "cannot be excluded"),
    ('<Property name="givenName" />', "ExcludeAll", "ExcludeAll"),
])
def test_selection_mode_errors(content, mode, expected):
    text = doc(content, mode=mode)
    error = error_of(text)
    assert expected in str(error) and error.line == 4


def test_filter_accepts_extension_values_and_strips_whitespace():
    tree = readable('<Collection name="roles" memberSelection="IncludeAll">'
                    '<Filter propertyName="role" filterMode="ExcludeOnly"><Value> ext:coach </Value></Filter>'
                    "</Collection>")
    assert tree["roles"][FILTER_KEY] == {"property": "role", "mode": "ExcludeOnly", "values": frozenset({"ext:coach"})}


def test_malformed_xml_names_the_line():
    text = doc('<Property name="givenName">')
    error = error_of(text)
    assert str(error).startswith(f"profile.xml:{error.line}: malformed XML") and error.line >= 5
    assert error_of("").line == 1


def test_xsd_violations_name_the_line():
    text = doc('<Property nam="givenName" />')
    error = error_of(text)
    assert error.line == 4 and "does not match the profile XSD" in str(error) and "'nam'" in str(error)
    text = doc('<Collection name="roles" memberSelection="Some" />')
    assert error_of(text).line == 4
    text = doc('<Collection name="roles" memberSelection="IncludeAll" />\n<Property name="givenName" />')
    error = error_of(text)
    assert error.line == 5 and "Element 'Property'" in str(error)  # XSD order: Property, Object, Collection
    text = "<Profiles>\n</Profiles>\n"
    assert error_of(text, model=None).line == 1


def test_wrong_root_and_duplicates():
    assert "neither <Profiles> nor <Profile>" in str(error_of("<Profilez/>"))
    twice = '<Profiles>\n<Profile name="A"><Resource name="User" /></Profile>\n' \
            '<Profile name="A"><Resource name="Org" /></Profile>\n</Profiles>'
    error = error_of(twice)
    assert error.line == 3 and "defined twice (first on line 2)" in str(error)
    dup = '<Profile name="A">\n<Resource name="User" />\n<Resource name="users" />\n</Profile>'
    assert error_of(dup).line == 3
    assert "empty name" in str(error_of('<Profile name=" "><Resource name="User" /></Profile>'))


def test_oversized_documents_are_refused():
    huge = doc("<!--" + "x" * (1 << 20) + "-->")
    assert "limited to" in str(error_of(huge))


# --- hostile XML ------------------------------------------------------------------------------------------------------

@pytest.fixture
def listener():
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    yield server
    server.close()


def assert_never_contacted(server: socket.socket) -> None:
    with pytest.raises(BlockingIOError):
        connection, _ = server.accept()
        connection.close()


def test_xxe_file_and_network_entities_are_refused(tmp_path, listener):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-42")
    port = listener.getsockname()[1]
    text = ('<?xml version="1.0"?>\n<!DOCTYPE Profile [\n'
            f'  <!ENTITY file SYSTEM "{secret.as_uri()}">\n'
            f'  <!ENTITY net SYSTEM "http://127.0.0.1:{port}/x">\n]>\n'
            '<Profile name="&file;&net;"><Resource name="User" /></Profile>\n')
    error = error_of(text)
    assert error.line == 2 and "DOCTYPE" in str(error) and "TOP-SECRET" not in str(error)
    external = f'<?xml version="1.0"?>\n<!DOCTYPE Profile SYSTEM "http://127.0.0.1:{port}/p.dtd">\n' \
               '<Profile name="x"><Resource name="User" /></Profile>'
    assert "DOCTYPE" in str(error_of(external))
    assert_never_contacted(listener)


def test_hardened_parser_itself_neither_expands_nor_fetches(tmp_path, listener):
    """Defence in depth: even past the DOCTYPE check, the parser loads no DTD and substitutes no entity."""
    from lxml import etree

    from gateway.privacy.profiles import _parser
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-42")
    port = listener.getsockname()[1]
    internal = f'<!DOCTYPE a [<!ENTITY s SYSTEM "{secret.as_uri()}">]><a>&s;</a>'.encode()
    assert b"TOP-SECRET" not in etree.tostring(etree.fromstring(internal, _parser()))
    for body in ("&s;", "x"):  # libxml2 either keeps the reference or reports "Attempt to load network entity"
        external = f'<!DOCTYPE a SYSTEM "http://127.0.0.1:{port}/a.dtd"><a>{body}</a>'.encode()
        try:
            root = etree.fromstring(external, _parser())
        except etree.XMLSyntaxError as error:
            assert "network" in str(error)
        else:
            assert root.text in (None, "x")
    assert_never_contacted(listener)


def test_billion_laughs_is_refused_without_expansion():
    entities = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)]
    text = ('<?xml version="1.0"?>\n<!DOCTYPE Profile [\n' + "\n".join(entities) + "\n]>\n"
            '<Profile name="&lol9;"><Resource name="User" /></Profile>\n')
    started = time.monotonic()
    error = error_of(text)
    assert time.monotonic() - started < 1 and error.line == 2 and "DOCTYPE" in str(error)
    utf16 = text.replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="utf-16"?>').encode("utf-16")
    assert "DOCTYPE" in str(error_of(utf16))


# --- trees as keys, named fields --------------------------------------------------------------------------------------

def test_freeze_is_hashable_order_independent_and_covers_filters():
    tree = parse_profile(fixture("oneroster_profiles.xml"), MODEL)["Reading-App"].readable("User")
    key = freeze(tree)
    hash(key)
    assert freeze(dict(reversed(list(tree.items())))) == key
    assert thaw(key) == tree
    other = thaw(key)
    other["roles"][FILTER_KEY] = {**other["roles"][FILTER_KEY], "values": frozenset({"student"})}
    assert freeze(other) != key
    other["roles"][FILTER_KEY]["mode"] = "ExcludeOnly"
    assert freeze(other) != key
    assert freeze(default_view(MODEL, "User")) == freeze(default_view(MODEL, "users"))


def test_readable_returns_a_fresh_copy():
    profile = parse_profile(fixture("oneroster_profiles.xml"), MODEL)["Reading-App"]
    profile.readable("User")["password"] = None
    assert "password" not in profile.readable("User")


def test_named_fields():
    profile = parse_profile(fixture("oneroster_profiles.xml"), MODEL)["Sis-Sync"]
    assert named_fields(profile) == {
        "User.phone", "User.sms", "User.userProfiles", "User.primaryOrg", "User.roles", "User.roles.roleType",
        "User.userIds", "Org.name"}
