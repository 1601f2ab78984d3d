from __future__ import annotations

from tests.factories import login, make_project, make_user


def test_login_wrong_password_is_401(client):
    make_user("ann")
    r = client.post("/api/v1/auth/login", json={"username": "ann", "password": "nope-nope"})
    assert r.status_code == 401
    assert client.get("/api/v1/projects").status_code == 401


def test_login_requires_json(client):
    make_user("ann")
    r = client.post("/api/v1/auth/login", data={"username": "ann", "password": "password-123"})
    assert r.status_code in (415, 422)


def test_state_change_without_csrf_token_is_refused_and_writes_nothing(client):
    make_user("lead", "lead")
    login(client, "lead")
    body = {"name": "x", "classes": [{"name": "bg", "color": "#000000"}, {"name": "a", "color": "#ff0000"}]}
    r = client.post("/api/v1/projects", json=body)
    assert r.status_code == 403 and "CSRF" in r.json()["detail"]
    r = client.post("/api/v1/projects", json=body, headers={"X-CSRF-Token": "wrong"})
    assert r.status_code == 403
    assert client.get("/api/v1/projects").json()["items"] == []


def test_non_member_gets_404_everywhere(client):
    make_user("lead", "lead")
    make_user("outsider", "lead")
    pid = make_project(owner="lead")
    token = login(client, "outsider")
    h = {"X-CSRF-Token": token}
    for method, path in [
        ("GET", f"/api/v1/projects/{pid}"), ("GET", f"/api/v1/projects/{pid}/queue"),
        ("POST", f"/api/v1/projects/{pid}/tasks/next"), ("GET", f"/api/v1/projects/{pid}/items"),
        ("GET", f"/api/v1/projects/{pid}/models"), ("POST", f"/api/v1/projects/{pid}/models/train"),
        ("GET", f"/projects/{pid}"), ("GET", f"/projects/{pid}/label"),
    ]:
        r = client.request(method, path, headers=h)
        assert r.status_code == 404, (method, path, r.status_code)


def test_annotator_cannot_create_projects(client):
    make_user("ann")
    token = login(client, "ann")
    body = {"name": "x", "classes": [{"name": "bg", "color": "#000000"}, {"name": "a", "color": "#ff0000"}]}
    assert client.post("/api/v1/projects", json=body, headers={"X-CSRF-Token": token}).status_code == 403


def test_project_validation_messages(client):
    make_user("lead", "lead")
    token = login(client, "lead")
    h = {"X-CSRF-Token": token}
    r = client.post("/api/v1/projects", headers=h, json={"name": "x", "classes": [{"name": "bg", "color": "red"},
                                                                                 {"name": "a", "color": "#ff0000"}]})
    assert r.status_code == 422 and "colour" in r.json()["detail"]
    r = client.post("/api/v1/projects", headers=h, json={"name": "x", "classes": [{"name": "bg", "color": "#000000"}]})
    assert r.status_code == 422
    ok = {"name": "x", "classes": [{"name": "bg", "color": "#000000"}, {"name": "a", "color": "#ff0000"}]}
    assert client.post("/api/v1/projects", headers=h, json=ok).status_code == 201
    assert client.post("/api/v1/projects", headers=h, json=ok).status_code == 422  # duplicate name


def test_pages_redirect_to_login_and_escape_user_text(client):
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    make_user("lead", "lead")
    token = login(client, "lead")
    evil = "<script>alert(1)</script>"
    body = {"name": evil, "description": evil,
            "classes": [{"name": "bg", "color": "#000000"}, {"name": evil[:60], "color": "#ff0000"}]}
    assert client.post("/api/v1/projects", json=body, headers={"X-CSRF-Token": token}).status_code == 201
    page = client.get("/").text
    assert evil not in page and "&lt;script&gt;" in page
    assert "Content-Security-Policy" in client.get("/").headers


def test_html_login_form_needs_csrf(client):
    make_user("ann")
    r = client.post("/login", data={"username": "ann", "password": "password-123"}, follow_redirects=False)
    assert r.status_code == 403
    page = client.get("/login").text
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    r = client.post("/login", data={"username": "ann", "password": "password-123", "csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/").status_code == 200
