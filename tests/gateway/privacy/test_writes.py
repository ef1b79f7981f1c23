"""Writes: a field outside the app's WriteContentType refuses the whole write (default deny without a profile)."""

import pytest

from gateway.errors import BadRequest
from gateway.errors import Forbidden
from gateway.policy import AccessPolicy

PROFILE = """<Profile name="grades">
  <Resource name="Result">
    <ReadContentType memberSelection="IncludeAll"/>
    <WriteContentType memberSelection="IncludeOnly">
      <Property name="lineItem"/><Property name="student"/><Property name="score"/><Property name="scoreStatus"/>
      <Property name="scoreDate"/>
    </WriteContentType>
  </Resource>
  <Resource name="User">
    <ReadContentType memberSelection="IncludeAll"/>
    <WriteContentType memberSelection="IncludeOnly">
      <Property name="givenName"/>
      <Collection name="roles" memberSelection="IncludeOnly">
        <Property name="role"/><Property name="roleType"/><Property name="org"/>
        <Filter propertyName="role" filterMode="IncludeOnly"><Value>student</Value></Filter>
      </Collection>
    </WriteContentType>
  </Resource>
  <Resource name="Class"><ReadContentType memberSelection="IncludeAll"/></Resource>
</Profile>"""

RESULT = {"sourcedId": "r1", "lineItem": {"sourcedId": "li1", "type": "lineItem"},
          "student": {"sourcedId": "s1", "type": "user"}, "score": 9.5, "scoreStatus": "fully graded",
          "scoreDate": "2027-01-10"}


def policy(xml=PROFILE):
    return AccessPolicy(tenant="d1", client_id="app", scopes=frozenset(), profile_xml=xml)


def test_a_write_inside_the_profile_passes():
    policy().check_write("Result", RESULT)
    policy().check_write("User", {"sourcedId": "s1", "givenName": "Ann",
                                  "roles": [{"role": "student", "roleType": "primary",
                                             "org": {"sourcedId": "sch1", "type": "org"}}]})


@pytest.mark.parametrize("doc, refused", [
    ({**RESULT, "comment": "well done"}, "comment"),
    ({**RESULT, "status": "tobedeleted"}, "status"),  # the gateway sets status and dateLastModified
    ({"sourcedId": "s1", "givenName": "Ann", "familyName": "Lee"}, "familyName"),
    ({"sourcedId": "s1", "password": "secret"}, "password"),  # tier 3 can never be granted, so never written
    ({"sourcedId": "s1", "roles": [{"role": "student", "userProfile": "x"}]}, "roles[].userProfile"),
    ({"sourcedId": "s1", "roles": [{"role": "teacher", "roleType": "primary"}]}, "roles[].role='teacher'"),
])
def test_a_field_outside_the_profile_refuses_the_write_and_is_named(doc, refused):
    with pytest.raises(BadRequest) as error:
        policy().check_write("Result" if "lineItem" in doc else "User", doc)
    assert refused in error.value.description
    assert "secret" not in error.value.description and "well done" not in error.value.description


def test_no_profile_or_no_write_content_type_means_no_writes():
    with pytest.raises(Forbidden):
        policy(None).check_write("Result", RESULT)
    with pytest.raises(Forbidden):
        policy().check_write("Class", {"sourcedId": "c1", "title": "Algebra"})
    with pytest.raises(Forbidden):
        policy().check_write("Enrollment", {"sourcedId": "e1"})
