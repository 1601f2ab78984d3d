"""Input a database cannot hold is refused at the edge, on every route, on both databases (issue 10): NUL
characters and lone surrogates -> 422 with a message, ids outside 1..2**31-1 in the URL -> 404."""

from __future__ import annotations

import numpy as np
import pytest

from tests.factories import login, make_project, make_user, png_bytes
from tests.scenes import add_items, lease

NUL = "a\x00b"
HUGE = "99999999999"  # above the signed 32-bit range of the id columns
JSON = {"content-type": "application/json"}


def raw_json(text: str) -> bytes:
    """JSON with escapes kept as written: `\\ud800` stays a lone surrogate for the server to decode
    (httpx's json= cannot encode one)."""
    return text.encode()


@pytest.fixture
def scene(client):  # type: ignore[no-untyped-def]
    make_user("lead", "lead")
    make_user("ann")
    pid = make_project(owner="lead", members=("ann",))
    add_items(pid, 2)
    tid = lease(pid, "lead")
    token = login(client, "lead")
    return pid, tid, {"X-CSRF-Token": token}


def detail(r) -> str:  # type: ignore[no-untyped-def]
    body = r.json()
    assert isinstance(body["detail"], str | list), body
    return str(body["detail"])


def test_a_lone_surrogate_in_a_login_password_is_422(client, backend):
    make_user("ann")
    for body in ('{"username": "ann", "password": "\\ud800"}', '{"username": "ann", "password": "x\\udfffy"}',
                 '{"username": "\\ud800", "password": "password-123"}'):
        r = client.post("/api/v1/auth/login", content=raw_json(body), headers=JSON)
        assert r.status_code == 422 and "surrogate" in detail(r), (body, r.status_code, r.text)
    assert client.get("/api/v1/auth/me").status_code == 401
    login(client, "ann")  # the right password still logs in


def test_nul_characters_in_names_and_logins_are_422(client, backend, scene):
    pid, tid, h = scene
    cases = [
        ("POST", "/api/v1/auth/login", {"json": {"username": NUL, "password": "password-123"}}),
        ("POST", "/api/v1/auth/login", {"json": {"username": "ann", "password": NUL}}),
        ("POST", "/api/v1/projects", {"json": {"name": NUL, "classes": [{"name": "bg", "color": "#000000"},
                                                                         {"name": "a", "color": "#ff0000"}]}}),
        ("POST", "/api/v1/projects", {"json": {"name": "ok", "classes": [{"name": NUL, "color": "#000000"},
                                                                          {"name": "a", "color": "#ff0000"}]}}),
        ("PATCH", f"/api/v1/projects/{pid}", {"json": {"description": NUL}}),
        ("POST", f"/api/v1/projects/{pid}/members", {"json": {"username": NUL}}),
        ("POST", f"/api/v1/projects/{pid}/tasks/{tid}/skip", {"json": {"reason": NUL}}),
        ("POST", f"/api/v1/projects/{pid}/tasks/{tid}/flag", {"json": {"note": NUL}}),
        ("POST", f"/api/v1/projects/{pid}/tasks/{tid}/skip", {"json": {NUL: "key"}}),
        ("GET", f"/api/v1/projects/{pid}/queue?limit=1&x=a%00b", {}),
        ("GET", f"/api/v1/projects/{pid}/tasks/{tid}/suggestion/a%00b", {}),
    ]
    for method, path, kwargs in cases:
        r = client.request(method, path, headers=h, **kwargs)
        assert r.status_code == 422 and "NUL" in detail(r), (method, path, kwargs, r.status_code, r.text)
    # The HTML login form, urlencoded (its CSRF token in the form).
    page = client.get("/login").text
    form_token = page.split('name="csrf_token" value="')[1].split('"')[0]
    r = client.post("/login", data={"username": NUL, "password": "x", "csrf_token": form_token})
    assert r.status_code == 422 and "NUL" in detail(r)
    # Multipart: a form value and a file name.
    mask = png_bytes(np.zeros((16, 16), np.uint8))
    r = client.post(f"/api/v1/projects/{pid}/tasks/{tid}/annotations", headers=h,
                    files={"mask": ("m.png", mask, "image/png")}, data={"client_token": NUL})
    assert r.status_code == 422 and "client_token" in detail(r), r.text
    image = png_bytes(np.full((16, 16, 3), 7, np.uint8))
    body = (b'--b0undary\r\nContent-Disposition: form-data; name="files"; filename="x\x00.png"\r\n'
            b"Content-Type: image/png\r\n\r\n" + image + b"\r\n--b0undary--\r\n")  # httpx would escape the NUL
    r = client.post(f"/api/v1/projects/{pid}/items", content=body,
                    headers=h | {"content-type": "multipart/form-data; boundary=b0undary"})
    assert r.status_code == 422 and "file name" in detail(r), r.text
    # Nothing was written by any of them.
    assert client.get(f"/api/v1/projects/{pid}/tasks/{tid}/annotations", headers=h).json()["items"] == []
    assert len(client.get(f"/api/v1/projects/{pid}/items").json()["items"]) == 2
    assert [p["name"] for p in client.get("/api/v1/projects").json()["items"]] == ["p"]


def test_ids_outside_the_column_range_are_404_in_any_path_or_query(client, backend, scene):
    pid, tid, h = scene
    paths = [
        ("GET", f"/api/v1/projects/{HUGE}"), ("PATCH", f"/api/v1/projects/{HUGE}"),
        ("GET", f"/api/v1/projects/{pid}/tasks/{HUGE}"), ("POST", f"/api/v1/projects/{pid}/tasks/{HUGE}/release"),
        ("GET", f"/api/v1/projects/{pid}/items/{HUGE}/image"),
        ("GET", f"/api/v1/projects/{pid}/tasks/{tid}/annotations/{HUGE}/mask"),
        ("POST", f"/api/v1/projects/{pid}/flags/{HUGE}/resolve"),
        ("GET", f"/api/v1/projects/{pid}/tasks/{tid}/suggestion/mask?mv={HUGE}"),
        ("GET", f"/api/v1/projects/{pid}/tasks/{tid}/suggestion/mask?mv=-{HUGE}"),
        ("GET", f"/api/v1/projects/{pid}/tasks/{tid}/suggestion/mask?mv=99_999_999_999"),
        ("GET", f"/projects/{HUGE}"), ("GET", f"/projects/{pid}/label/why/{HUGE}"),
        ("GET", f"/api/v1/projects/{2**31}"), ("GET", f"/api/v1/projects/{2**63}"),
        ("GET", f"/api/v1/projects/{10**30}"),
        ("GET", "/api/v1/projects/0"), ("GET", "/api/v1/projects/-1"), ("GET", f"/api/v1/projects/-{HUGE}"),
    ]
    for method, path in paths:
        r = client.request(method, path, headers=h)
        assert r.status_code == 404, (method, path, r.status_code, r.text)
    assert client.get(f"/api/v1/projects/{2**31 - 1}").status_code == 404  # in range: looked up, not there
    assert client.get(f"/api/v1/projects/{pid}/queue?limit={2**31 - 1}").status_code == 200


def test_numbers_a_column_cannot_hold_in_a_body_are_422(client, backend, scene):
    pid, tid, h = scene
    for body in ('{"name": "n", "classes": [], "retrain_every": 99999999999}',
                 '{"name": "n", "classes": [], "task_tile": -99999999999}',
                 '{"name": "n", "classes": [], "steered_share": NaN}',
                 '{"name": "n", "classes": [], "steered_share": Infinity}'):
        r = client.post("/api/v1/projects", content=raw_json(body), headers=h | JSON)
        assert r.status_code == 422, (body, r.text)
    mask = png_bytes(np.zeros((16, 16), np.uint8))
    r = client.post(f"/api/v1/projects/{pid}/tasks/{tid}/annotations", headers=h,
                    files={"mask": ("m.png", mask, "image/png")}, data={"model_version_id": HUGE})
    assert r.status_code == 422, r.text
    assert client.get(f"/api/v1/projects/{pid}/tasks/{tid}/annotations").json()["items"] == []


def test_a_non_ascii_csrf_header_is_403_not_500(client, scene):
    pid, _tid, _h = scene
    r = client.post(f"/api/v1/projects/{pid}/tasks/next", headers={"X-CSRF-Token": "caf\u00e9".encode("latin-1")})
    assert r.status_code == 403
