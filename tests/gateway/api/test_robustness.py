"""No request ever gets a 500 for bad input, an HTML page or a stack trace."""

from urllib.parse import quote

from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

FIELDS = ["givenName", "familyName", "roles.role", "roles.org.sourcedId", "grades", "status", "dateLastModified",
          "sourcedId", "email", "nosuch", "metadata.x", "userIds.identifier", "enabledUser"]
OPS = ["=", "!=", ">", ">=", "<", "<=", "~", "==", "=>", ""]
filters = st.one_of(
    st.text(max_size=80),
    st.builds(lambda f, o, v, q: f"{f}{o}{q}{v}{q}", st.sampled_from(FIELDS), st.sampled_from(OPS),
              st.text(max_size=12), st.sampled_from(["'", '"', ""])),
    st.lists(st.builds(lambda f, o, v: f"{f}{o}'{v}'", st.sampled_from(FIELDS), st.sampled_from(OPS),
                       st.text(alphabet="abc'%_ ", max_size=5)), min_size=2, max_size=4)
    .map(lambda parts: " AND ".join(parts[:2]) + "".join(" OR " + p for p in parts[2:])),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(expression=filters, sort=st.sampled_from(FIELDS + [""]), fields=st.sampled_from(FIELDS + ["", "a,,b"]))
def test_random_filter_sort_fields_never_500(get, expression, sort, fields):
    response = get(f"users?filter={quote(expression)}&sort={quote(sort)}&fields={quote(fields)}")
    assert response.status_code in (200, 400), response.get_data(as_text=True)
    assert response.is_json
    if response.status_code == 400:
        body = response.get_json()
        code = body["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"]
        assert code in {"invalid_filter_field", "invalid_selection_field", "invalid_sort_field", "invaliddata"}


def test_an_unexpected_failure_is_a_json_500_without_details(app, get, monkeypatch):
    from gateway.query.reading import Reader

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(Reader, "list", broken)
    response = get("users")
    assert response.status_code == 500
    assert response.is_json
    assert b"secret internals" not in response.data and b"Traceback" not in response.data
    code = response.get_json()["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"]
    assert code == "internal_server_error"
