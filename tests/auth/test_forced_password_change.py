"""A password an admin generated or reset has been seen by them: the user must choose their own at their
next login, on a page every other page sends them to, while the API answers 403; the policy applies to
the new one, and the change is in the audit log."""

from __future__ import annotations

from tests.factories import login, make_project, make_user
from tests.people.conftest import user_id

STRONG = "violet-harbor-42"


def _admin(client) -> dict[str, str]:  # type: ignore[no-untyped-def]
    make_user("root", "admin")
    return {"X-CSRF-Token": login(client, "root")}


def _actions(client, headers: dict[str, str], uid: int) -> list[tuple[str, dict]]:  # type: ignore[no-untyped-def,type-arg]
    login(client, "root")
    items = client.get("/api/v1/audit", params={"entity": "user", "entity_id": uid}).json()["items"]
    return [(e["action"], e["detail"]) for e in items]


def test_a_generated_password_is_changed_through_the_api_before_anything_else(client):
    headers = _admin(client)
    make_user("lead", "lead")
    make_project(name="roads", owner="lead")
    r = client.post("/api/v1/users", json={"username": "ann", "role": "annotator"}, headers=headers)
    generated = r.json()["generated_password"]
    assert r.json()["user"]["must_change_password"] is True
    token = login(client, "ann", generated)
    assert client.get("/api/v1/auth/me").json()["must_change_password"] is True
    r = client.get("/api/v1/projects")
    assert r.status_code == 403 and "change your password first" in r.json()["detail"]
    r = client.post("/api/v1/auth/password", json={"current_password": generated, "new_password": "password123"},
                    headers={"X-CSRF-Token": token})
    assert r.status_code == 422 and "common" in r.json()["detail"]  # the policy applies
    assert client.get("/api/v1/projects").status_code == 403  # a refused change changes nothing
    r = client.post("/api/v1/auth/password", json={"current_password": generated, "new_password": STRONG},
                    headers={"X-CSRF-Token": token})
    assert r.status_code == 200 and r.json()["must_change_password"] is False
    assert client.get("/api/v1/projects").status_code == 200
    actions = _actions(client, headers, user_id("ann"))
    assert ("user.create", {"username": "ann", "role": "annotator", "must_change_password": True}) in actions
    assert any(a == "user.password_change" and d["required"] is True for a, d in actions)


def test_a_chosen_password_at_creation_needs_no_change(client):
    headers = _admin(client)
    client.post("/api/v1/users", json={"username": "ann", "role": "annotator", "password": STRONG}, headers=headers)
    login(client, "ann", STRONG)
    assert client.get("/api/v1/auth/me").json()["must_change_password"] is False
    assert client.get("/", headers={"accept": "text/html"}).status_code == 200


def test_a_reset_password_sends_every_page_to_the_change_page_until_it_is_changed(client):
    headers = _admin(client)
    make_user("ann")
    uid = user_id("ann")
    r = client.post(f"/api/v1/users/{uid}/password", json={"password": "chosen-by-admin-7"}, headers=headers)
    assert r.status_code == 200
    token = login(client, "ann", "chosen-by-admin-7")
    for path in ("/", "/account", f"/people/{uid}/record"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/account/password", path
    page = client.get("/account/password")
    assert page.status_code == 200 and "An admin set your password" in page.text
    form = {"csrf_token": token, "current_password": "chosen-by-admin-7"}
    r = client.post("/account/password", data={**form, "new_password": STRONG, "new_password_again": STRONG + "x"})
    assert r.status_code == 422 and "new_password_again" in r.text
    r = client.post("/account/password", data={**form, "new_password": "ann-is-here-1", "new_password_again":
                                               "ann-is-here-1"})
    assert r.status_code == 422 and "user name" in r.text  # the policy applies
    assert client.get("/", follow_redirects=False).status_code == 303
    r = client.post("/account/password", data={**form, "new_password": STRONG, "new_password_again": STRONG},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/account?notice=password"
    assert "Password changed." in client.get(r.headers["location"]).text
    assert client.get("/", follow_redirects=False).status_code == 200
    actions = _actions(client, headers, uid)
    assert any(a == "user.password_reset" and d["must_change_password"] is True for a, d in actions)
    assert any(a == "user.password_change" and d["required"] is True for a, d in actions)
