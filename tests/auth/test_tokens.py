"""API tokens: a token authenticates the JSON API without CSRF; a revoked one, or one of a deactivated user,
is refused; cookie sessions still need their CSRF token; tokens are kept hashed."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from tests.factories import login, make_project, make_user

PROJECT = {"name": "by-token", "classes": [{"name": "bg", "color": "#000000"}, {"name": "a", "color": "#ff0000"}]}


def new_token(client, name: str = "script") -> dict:  # type: ignore[no-untyped-def]
    csrf = client.get("/api/v1/auth/me").json()["csrf_token"]
    r = client.post("/api/v1/auth/tokens", json={"name": name}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_a_token_works_without_csrf_and_a_revoked_one_does_not(client, backend):
    from fastapi.testclient import TestClient

    make_user("lead", "lead")
    login(client, "lead")
    created = new_token(client)
    token = created["token"]
    assert token.startswith("lw_") and created["prefix"] == token[:10] and created["last_used_at"] is None

    bare = TestClient(client.app)  # no cookie at all: only the token
    auth = {"Authorization": f"Bearer {token}"}
    assert bare.get("/api/v1/auth/me", headers=auth).json()["username"] == "lead"
    r = bare.post("/api/v1/projects", json=PROJECT, headers=auth)  # a state change with no CSRF token
    assert r.status_code == 201, r.text
    listed = client.get("/api/v1/auth/tokens").json()["items"]
    assert [t["name"] for t in listed] == ["script"] and listed[0]["last_used_at"] is not None
    assert "token" not in listed[0]

    csrf = client.get("/api/v1/auth/me").json()["csrf_token"]
    r = client.delete(f"/api/v1/auth/tokens/{created['id']}", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.json()["revoked_at"]
    for method, path in (("GET", "/api/v1/projects"), ("POST", "/api/v1/projects")):
        r = bare.request(method, path, headers=auth, json=PROJECT)
        assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer", (method, r.text)
    assert [p["name"] for p in client.get("/api/v1/projects").json()["items"]] == ["by-token"]  # one, not two


def test_bad_tokens_are_401_even_with_a_good_cookie(client):
    make_user("lead", "lead")
    csrf = login(client, "lead")
    for header in ("Bearer lw_nope", "Bearer ", "Basic abc", "Bearer " + "x" * 500):
        r = client.post("/api/v1/projects", json=PROJECT, headers={"Authorization": header, "X-CSRF-Token": csrf})
        assert r.status_code == 401, (header, r.text)
    assert client.get("/api/v1/projects").json()["items"] == []


def test_a_deactivated_users_tokens_are_refused(client):
    from fastapi.testclient import TestClient

    from app.auth.models import User
    from app.db import session_scope

    make_user("ann")
    login(client, "ann")
    token = new_token(client)["token"]
    bare = TestClient(client.app)
    assert bare.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    with session_scope() as session:
        user = session.scalar(select(User).where(User.username == "ann"))
        assert user is not None
        user.is_active = False
    assert bare.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_csrf_still_applies_to_cookie_sessions_and_to_pages(client):
    make_user("lead", "lead")
    login(client, "lead")
    assert client.post("/api/v1/projects", json=PROJECT).status_code == 403
    assert client.post("/api/v1/auth/tokens", json={"name": "x"}).status_code == 403
    # A bearer header on a page's route does not lift that route's CSRF check (pages take no tokens).
    r = client.post("/account/tokens", data={"name": "x"}, headers={"Authorization": "Bearer lw_x"})
    assert r.status_code == 403
    assert client.get("/api/v1/auth/tokens").json()["items"] == []


def test_token_uploads_pass_the_pre_body_check(client):
    """The file routes judge login and CSRF before the body: a token counts there too."""
    import numpy as np
    from fastapi.testclient import TestClient

    from tests.factories import png_bytes

    make_user("lead", "lead")
    pid = make_project(owner="lead")
    login(client, "lead")
    token = new_token(client)["token"]
    bare = TestClient(client.app)
    image = png_bytes(np.zeros((8, 8, 3), np.uint8))
    r = bare.post(f"/api/v1/projects/{pid}/items", files={"files": ("a.png", image)},
                  headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201, r.text
    r = bare.post(f"/api/v1/projects/{pid}/items", files={"files": ("b.png", image)},
                  headers={"Authorization": "Bearer lw_wrong"})
    assert r.status_code == 401


def test_tokens_are_hashed_at_rest_and_names_are_checked(client):
    from app.auth.models import ApiToken
    from app.db import session_scope

    make_user("lead", "lead")
    csrf = login(client, "lead")
    token = new_token(client)["token"]
    with session_scope() as session:
        rows = session.scalars(select(ApiToken)).all()
        assert [r.token_hash for r in rows] == [hashlib.sha256(token.encode()).hexdigest()]
    for name in ("", "   ", "x" * 65, "a\nb"):
        r = client.post("/api/v1/auth/tokens", json={"name": name}, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 422 and "name" in r.text, (name, r.text)


def test_account_page_creates_shows_once_and_revokes(client):
    import re

    from fastapi.testclient import TestClient

    make_user("ann")
    csrf = login(client, "ann")
    page = client.get("/account", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "API tokens" in page.text and "No tokens yet" in page.text
    r = client.post("/account/tokens", data={"name": "<b>nightly</b>", "csrf_token": csrf})
    assert r.status_code == 201
    token = re.search(r'value="(lw_[A-Za-z0-9_-]{43})"', r.text)
    assert token is not None and "&lt;b&gt;nightly&lt;/b&gt;" in r.text and "<b>nightly</b>" not in r.text
    again = client.get("/account").text
    assert token.group(1) not in again and token.group(1)[:10] in again  # shown once; its prefix stays
    bare = TestClient(client.app)
    auth = {"Authorization": f"Bearer {token.group(1)}"}
    assert bare.get("/api/v1/projects", headers=auth).status_code == 200
    token_id = client.get("/api/v1/auth/tokens").json()["items"][0]["id"]
    r = client.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert bare.get("/api/v1/projects", headers=auth).status_code == 401
    assert "revoked" in client.get("/account").text
    # Someone else's token id is a 404, and revokes nothing.
    make_user("bob")
    other = TestClient(client.app)
    login(other, "bob")
    csrf_b = other.get("/api/v1/auth/me").json()["csrf_token"]
    r = other.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf_b}, headers={"Accept": "text/html"})
    assert r.status_code == 404
