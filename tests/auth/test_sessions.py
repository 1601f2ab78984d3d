"""Server-side sessions: the cookie holds a random id, a row per login, revoked by logout and by a
password change; lifetime, idle timeout and the Secure flag come from settings."""

from __future__ import annotations

import hashlib

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.factories import login, make_user

COOKIE = "labelwise_session"


def set_cookie_header(response) -> str:  # type: ignore[no-untyped-def]
    headers = [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{COOKIE}=")]
    assert len(headers) == 1, response.headers
    return str(headers[0])


def session_rows():  # type: ignore[no-untyped-def]
    from app.auth.models import UserSession
    from app.db import session_scope

    with session_scope() as s:
        return list(s.scalars(select(UserSession).order_by(UserSession.id)))


def test_logout_revokes_the_saved_cookie(backend, client):
    make_user("ann")
    token = login(client, "ann")
    saved = client.cookies[COOKIE]
    assert client.get("/api/v1/auth/me").status_code == 200
    assert client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": token}).status_code == 200
    assert client.cookies[COOKIE] != saved  # a fresh anonymous id
    client.cookies.set(COOKIE, saved)  # the attacker's copy of the cookie
    r = client.get("/api/v1/auth/me")
    assert r.status_code == 401 and r.json() == {"detail": "log in first"}
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert session_rows()[0].revoked_at is not None


def test_the_cookie_holds_a_random_id_and_the_database_only_its_hash(client):
    make_user("ann")
    anonymous = client.get("/login")
    before = client.cookies[COOKIE]
    r = client.post("/api/v1/auth/login", json={"username": "ann", "password": "password-123"})
    header = set_cookie_header(r)
    value = client.cookies[COOKIE]
    assert value != before  # a new id at login: a planted cookie never becomes a login
    assert len(value) == 43 and "ann" not in value
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Secure" not in header
    assert "Max-Age=604800" in header  # the default lifetime, 7 days
    assert "Max-Age" not in set_cookie_header(anonymous)  # anonymous ids last the browser session
    (row,) = session_rows()
    assert row.token_hash == hashlib.sha256(value.encode()).hexdigest()
    assert row.user_agent == "testclient" and row.revoked_at is None
    assert r.json()["csrf_token"] != anonymous.text.split('name="csrf_token" value="')[1].split('"')[0]


def test_a_forged_or_unknown_cookie_is_not_a_login(client):
    make_user("ann")
    client.cookies.set(COOKIE, "x" * 43)
    assert client.get("/api/v1/auth/me").status_code == 401
    client.cookies.set(COOKIE, '"; user_id=1')
    assert client.get("/api/v1/auth/me").status_code == 401


@pytest.mark.parametrize(("setting", "base_url", "secure"), [
    (None, "http://testserver", False), (None, "https://testserver", True),
    ("true", "http://testserver", True), ("false", "https://testserver", False),
])
def test_secure_flag_follows_the_setting(env, monkeypatch, setting, base_url, secure):
    from app.config import get_settings
    from app.main import create_app

    if setting is not None:
        monkeypatch.setenv("LABELWISE_COOKIE_SECURE", setting)
    get_settings.cache_clear()
    make_user("ann")
    with TestClient(create_app(), base_url=base_url) as c:
        r = c.post("/api/v1/auth/login", json={"username": "ann", "password": "password-123"})
        assert r.status_code == 200
        assert ("Secure" in set_cookie_header(r).split("; ")) is secure


def test_idle_timeout_ends_the_session(client, clock, monkeypatch):
    monkeypatch.setenv("LABELWISE_SESSION_IDLE_SECONDS", "600")
    from app.config import get_settings

    get_settings.cache_clear()
    make_user("ann")
    login(client, "ann")
    for _ in range(5):  # in use: each request within the idle timeout keeps it alive
        clock.advance(590)
        assert client.get("/api/v1/auth/me").status_code == 200
    clock.advance(601)
    assert client.get("/api/v1/auth/me").status_code == 401


def test_lifetime_ends_the_session_even_in_use(client, clock, monkeypatch):
    monkeypatch.setenv("LABELWISE_SESSION_LIFETIME_SECONDS", "3600")
    monkeypatch.setenv("LABELWISE_SESSION_IDLE_SECONDS", "600")
    from app.config import get_settings

    get_settings.cache_clear()
    make_user("ann")
    login(client, "ann")
    for _ in range(7):
        clock.advance(500)
        assert client.get("/api/v1/auth/me").status_code == 200
    clock.advance(101)  # 3601 s after login
    assert client.get("/api/v1/auth/me").status_code == 401


def test_last_seen_is_written_at_most_once_a_minute(client, clock):
    make_user("ann")
    login(client, "ann")
    first = session_rows()[0].last_seen_at
    clock.advance(30)
    assert client.get("/api/v1/auth/me").status_code == 200
    assert session_rows()[0].last_seen_at == first
    clock.advance(31)
    assert client.get("/api/v1/auth/me").status_code == 200
    assert session_rows()[0].last_seen_at == clock.now


def test_password_change_revokes_every_session_and_keeps_this_one(client):
    make_user("ann")
    other = TestClient(client.app)  # a second browser
    login(other, "ann")
    token = login(client, "ann")
    saved = client.cookies[COOKIE]
    body = {"current_password": "password-123", "new_password": "a much better one"}
    assert client.post("/api/v1/auth/password", json=body).status_code == 403  # CSRF
    r = client.post("/api/v1/auth/password", json=body, headers={"X-CSRF-Token": token})
    assert r.status_code == 200, r.text
    assert r.json()["csrf_token"] != token
    assert client.get("/api/v1/auth/me").status_code == 200  # this browser: a new session
    assert other.get("/api/v1/auth/me").status_code == 401
    third = TestClient(client.app, cookies={COOKIE: saved})
    assert third.get("/api/v1/auth/me").status_code == 401
    assert third.post("/api/v1/auth/login", json={"username": "ann", "password": "password-123"}).status_code == 401
    login(third, "ann", "a much better one")


@pytest.mark.parametrize(("current", "new", "status", "words"), [
    ("wrong-password", "a much better one", 403, "current password"),
    ("password-123", "        ", 422, "at least 10"),
    ("password-123", "ann-is-my-name", 422, "user name"),
    ("password-123", "qwertyuiop", 422, "common"),
])
def test_password_change_refused_changes_nothing(client, current, new, status, words):
    make_user("ann")
    other = TestClient(client.app)
    login(other, "ann")
    token = login(client, "ann")
    r = client.post("/api/v1/auth/password", json={"current_password": current, "new_password": new},
                    headers={"X-CSRF-Token": token})
    assert r.status_code == status and words in r.json()["detail"], r.text
    assert other.get("/api/v1/auth/me").status_code == 200
    login(client, "ann")


def test_html_login_and_logout_use_server_sessions(client):
    make_user("ann")
    page = client.get("/login").text
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    r = client.post("/login", data={"username": "ann", "password": "password-123", "csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 303 and len(session_rows()) == 1
    saved = client.cookies[COOKIE]
    home = client.get("/")
    assert home.status_code == 200
    token = home.text.split('name="csrf_token" value="')[1].split('"')[0]
    r = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    client.cookies.set(COOKIE, saved)
    assert client.get("/", follow_redirects=False).status_code == 303
    assert session_rows()[0].revoked_at is not None


def test_logging_in_again_ends_the_previous_session_of_this_browser(client):
    make_user("ann")
    login(client, "ann")
    first = client.cookies[COOKIE]
    login(client, "ann")
    assert [row.revoked_at is not None for row in session_rows()] == [True, False]
    client.cookies.set(COOKIE, first)
    assert client.get("/api/v1/auth/me").status_code == 401
