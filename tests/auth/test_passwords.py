"""The password policy and the user name rules, in the service and the CLI; the demo's fixed logins."""

from __future__ import annotations

import pytest

from tests.factories import login, make_user


@pytest.mark.parametrize(("password", "words"), [
    ("        ", "at least 10"),  # eight spaces
    ("            ", "only spaces"),
    ("short-pw", "at least 10"),
    ("x" * 257, "at most 256"),
    ("ann", "at least 10"),
    ("ann-rocks-2026", "user name"),
    ("myANNpassword", "user name"),
    ("Password123", "common"),
    ("1234567890", "common"),
    ("qwertyuiop", "common"),
    ("pass\x00word-123", "control characters"),
])
def test_policy_refuses(password, words):
    from app.auth.passwords import PasswordRefused, check_password

    with pytest.raises(PasswordRefused, match=words):
        check_password(password, username="ann")


@pytest.mark.parametrize("password", ["password-123", "correct horse battery", "  spaced  out  ", "ünïcödé-pässwörd"])
def test_policy_accepts(password):
    from app.auth.passwords import check_password

    check_password(password, username="ann")
    check_password("banana-split-7", username="a")  # a 1-2 letter name is not searched for


@pytest.mark.parametrize("name", ["", " ", "a" * 65, "al ice", "bob/../x", "ünï", "ann\x00", "tab\tname"])
def test_user_name_rules_refuse(name):
    from app.auth.passwords import UsernameRefused, check_username

    with pytest.raises(UsernameRefused, match="1 to 64 characters"):
        check_username(name)


@pytest.mark.parametrize("name", ["a", "A" * 64, "alice.smith_2-x", "0"])
def test_user_name_rules_accept(name):
    from app.auth.passwords import check_username

    check_username(name)


def test_create_user_applies_the_rules_and_writes_nothing_when_refused(env):
    from app.auth import service
    from app.auth.models import Role, User
    from app.auth.passwords import PasswordRefused, UsernameRefused
    from app.db import session_scope
    from app.errors import Conflict

    for name, password, error in [("ann", " " * 8, PasswordRefused), ("", "password-123", UsernameRefused),
                                  ("ann", "lead-demo", PasswordRefused)]:
        with pytest.raises(error), session_scope() as s:
            service.create_user(session=s, username=name, password=password, role=Role.annotator)
    make_user("ann")
    with pytest.raises(Conflict, match="exists already"), session_scope() as s:
        service.create_user(session=s, username="ANN", password="password-123", role=Role.annotator)
    with session_scope() as s:
        assert [u.username for u in s.query(User)] == ["ann"]


def test_only_the_demo_bypasses_the_policy_and_its_logins_work(client):
    from app import demo

    demo.ensure_users()
    for name, password, _role in demo.DEMO_USERS:
        login(client, name, password)


def test_a_lone_surrogate_in_a_login_password_is_refused_at_the_edge(client):
    make_user("ann")
    r = client.post("/api/v1/auth/login", content=b'{"username": "ann", "password": "\\ud800abc"}',
                    headers={"content-type": "application/json"})
    assert r.status_code == 422 and "surrogate" in r.json()["detail"], r.text


def test_a_nul_or_a_lone_surrogate_in_a_login_name_is_refused_at_the_edge_and_is_a_wrong_login_below_it(
        backend, client):
    """The edge (app/edge.py) answers 422 before the route; the service, reached some other way (the CLI),
    treats such a name as a wrong login on both databases, never an error."""
    from app.auth import service
    from app.db import session_scope

    make_user("ann")
    for body in (b'{"username": "an\\u0000n", "password": "password-123"}',
                 b'{"username": "\\udc80ann", "password": "password-123"}'):
        r = client.post("/api/v1/auth/login", content=body, headers={"content-type": "application/json"})
        assert r.status_code == 422, r.text
    for name in ("an\x00n", "\udc80ann"):
        with session_scope() as session:
            assert service.authenticate(session=session, username=name, password="password-123") is None
