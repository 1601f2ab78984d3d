"""Request bodies are bounded while they stream, before parsing, per route; the file routes check login and
CSRF before reading a byte of the body; uploads and masks are read bounded (issue 10)."""

from __future__ import annotations

import os
import tempfile

import numpy as np
import pytest

from tests.asgi_driver import (
    MIB,
    call,
    dir_size,
    multipart_chunks,
    reset_peak,
    rss_bytes,
)
from tests.factories import chart_pngs, login, make_project, make_user, png_bytes

BOUNDARY = "edgeboundary7MA4YWxkTrZu0gW"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


@pytest.fixture
def spool_dir(tmp_path, monkeypatch):
    """tempfile.gettempdir() for the test: where Starlette would spool an uploaded file."""
    path = tmp_path / "spool"
    path.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(path))
    return str(path)


def fresh_client(monkeypatch, **settings: int):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from app.config import get_settings
    from app.main import create_app

    for key, value in settings.items():
        monkeypatch.setenv(f"LABELWISE_{key.upper()}", str(value))
    get_settings.cache_clear()
    return TestClient(create_app())


def session_headers(client, token: str | None) -> dict[str, str]:  # type: ignore[no-untyped-def]
    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    headers = {"content-type": MULTIPART, "cookie": cookie}
    if token is not None:
        headers["x-csrf-token"] = token
    return headers


def stored_files(env) -> list[str]:  # type: ignore[no-untyped-def]
    return [os.path.join(r, f) for r, _d, fs in os.walk(env / "projects") for f in fs] if (env / "projects").exists() \
        else []


def test_an_anonymous_600_mb_upload_is_refused_without_reading_it(client, spool_dir):
    make_user("lead", "lead")
    pid = make_project(owner="lead")
    total = 600 * MIB
    before = dir_size(spool_dir), sorted(os.listdir(spool_dir))
    peak_resettable = reset_peak()
    rss0 = rss_bytes()
    for headers in ({"content-type": MULTIPART},  # chunked: no length
                    {"content-type": MULTIPART, "content-length": str(total + 300)}):
        answer = call(client.app, "POST", f"/api/v1/projects/{pid}/items", headers,
                      multipart_chunks(BOUNDARY, "files", "big.png", total))
        assert answer.status == 401, answer.body
        assert answer.json()["detail"] == "log in first"
        assert answer.pulled == 0  # not one byte of the body was read
    growth = (rss_bytes("VmHWM") if peak_resettable else rss_bytes()) - rss0
    assert growth < 8 * MIB, f"the server's memory grew by {growth / MIB:.1f} MiB"
    assert (dir_size(spool_dir), sorted(os.listdir(spool_dir))) == before


def test_a_file_route_without_the_csrf_header_is_refused_before_its_body(client, spool_dir):
    make_user("lead", "lead")
    pid = make_project(owner="lead")
    token = login(client, "lead")
    for headers in (session_headers(client, None), session_headers(client, "forged")):
        answer = call(client.app, "POST", f"/api/v1/projects/{pid}/items", headers,
                      multipart_chunks(BOUNDARY, "files", "big.png", 50 * MIB))
        assert answer.status == 403 and "CSRF" in answer.json()["detail"]
        assert answer.pulled == 0
    # The same for masks: submit and draft.
    for method, path in (("POST", f"/api/v1/projects/{pid}/tasks/1/annotations"),
                         ("PUT", f"/api/v1/projects/{pid}/tasks/1/draft")):
        client.cookies.clear()
        answer = call(client.app, method, path, {"content-type": MULTIPART},
                      multipart_chunks(BOUNDARY, "mask", "m.png", 10 * MIB))
        assert (answer.status, answer.pulled) == (401, 0)
    assert token  # the lead's session above was a real one
    assert os.listdir(spool_dir) == []


def test_an_oversized_upload_as_a_lead_gets_413_naming_the_limit_and_stores_nothing(env, monkeypatch, spool_dir):
    limit = 8 * MIB
    client = fresh_client(monkeypatch, max_upload_request_bytes=limit)
    make_user("lead", "lead")
    pid = make_project(owner="lead")
    token = login(client, "lead")
    headers = session_headers(client, token)
    reset_peak()
    rss0 = rss_bytes()
    # Chunked: counted as it streams and cut off once past the limit.
    answer = call(client.app, "POST", f"/api/v1/projects/{pid}/items", headers,
                  multipart_chunks(BOUNDARY, "files", "big.png", 200 * MIB))
    assert answer.status == 413, answer.body
    assert "8 MiB" in answer.json()["detail"] and str(limit) in answer.json()["detail"]
    assert answer.pulled <= limit + 2 * MIB
    # With a Content-Length above the limit: refused at once.
    answer = call(client.app, "POST", f"/api/v1/projects/{pid}/items",
                  headers | {"content-length": str(200 * MIB)}, multipart_chunks(BOUNDARY, "files", "b.png", 200 * MIB))
    assert (answer.status, answer.pulled) == (413, 0)
    growth = rss_bytes("VmHWM") - rss0
    assert growth < 24 * MIB, f"the server's memory grew by {growth / MIB:.1f} MiB"
    assert client.get(f"/api/v1/projects/{pid}/items").json()["items"] == []
    assert stored_files(env) == []


def test_a_file_over_the_per_file_limit_is_413_naming_it_and_nothing_is_stored(env, monkeypatch):
    (small, _), = chart_pngs(1, size=32)
    big = png_bytes(np.random.default_rng(0).integers(0, 255, (256, 256, 3), dtype=np.uint8))
    client = fresh_client(monkeypatch, max_upload_bytes=len(big) - 1)
    make_user("lead", "lead")
    pid = make_project(owner="lead")
    token = login(client, "lead")
    r = client.post(f"/api/v1/projects/{pid}/items", headers={"X-CSRF-Token": token},
                    files=[("files", ("small.png", small, "image/png")), ("files", ("big.png", big, "image/png"))])
    assert r.status_code == 413 and "'big.png'" in r.json()["detail"], r.text
    assert client.get(f"/api/v1/projects/{pid}/items").json()["items"] == []
    assert stored_files(env) == []


def test_masks_and_json_bodies_have_their_own_limits(env, monkeypatch):
    client = fresh_client(monkeypatch, max_mask_request_bytes=64 * 1024, max_request_bytes=16 * 1024)
    make_user("lead", "lead")
    pid = make_project(owner="lead")
    token = login(client, "lead")
    h = {"X-CSRF-Token": token}
    (png, _), = chart_pngs(1, size=32)
    assert client.post(f"/api/v1/projects/{pid}/items", headers=h, files=[("files", ("a.png", png, "image/png"))]) \
        .status_code == 201
    tid = client.post(f"/api/v1/projects/{pid}/tasks/next", headers=h).json()["id"]
    noise = png_bytes(np.random.default_rng(1).integers(0, 255, (400, 400), dtype=np.uint8))
    assert len(noise) > 64 * 1024
    for method in ("POST", "PUT"):
        path = f"/api/v1/projects/{pid}/tasks/{tid}/" + ("annotations" if method == "POST" else "draft")
        r = client.request(method, path, headers=h, files={"mask": ("m.png", noise, "image/png")})
        assert r.status_code == 413 and "64 KiB" in r.json()["detail"], r.text
    # JSON: a declared length and a chunked body (a generator: no Content-Length), both past 16 KiB.
    body = b'{"name": "p2", "description": "' + b"d" * 20_000 + b'", "classes": []}'
    r = client.post("/api/v1/projects", headers=h | {"content-type": "application/json"}, content=body)
    assert r.status_code == 413 and "16 KiB" in r.json()["detail"]
    r = client.post("/api/v1/projects", headers=h | {"content-type": "application/json"},
                    content=(body[i:i + 4096] for i in range(0, len(body), 4096)))
    assert r.status_code == 413
    # The same request under the limit goes through to the app (which checks the classes).
    r = client.post("/api/v1/projects", headers=h, json={"name": "p2", "classes": []})
    assert r.status_code == 422
    assert client.get(f"/api/v1/projects/{pid}/tasks/{tid}/annotations").json()["items"] == []


def test_file_routes_take_the_csrf_token_from_the_header_only(client):
    make_user("lead", "lead")
    pid = make_project(owner="lead")
    token = login(client, "lead")
    (png, _), = chart_pngs(1, size=32)
    r = client.post(f"/api/v1/projects/{pid}/items", data={"csrf_token": token},
                    files=[("files", ("a.png", png, "image/png"))])
    assert r.status_code == 403 and "X-CSRF-Token" in r.json()["detail"]
    r = client.post(f"/api/v1/projects/{pid}/items", headers={"X-CSRF-Token": token},
                    files=[("files", ("a.png", png, "image/png"))])
    assert r.status_code == 201


def test_every_route_that_takes_files_declares_its_body_kind(client):
    """A file route without a declared kind would get the small default limit and no pre-body login check."""
    from app.limits import BODY_KIND_KEY

    file_operations = [(path, method, op) for path, ops in client.app.openapi()["paths"].items()
                       for method, op in ops.items()
                       if "multipart/form-data" in op.get("requestBody", {}).get("content", {})]
    # uploads, submit, draft, the three imports, the import job, a gold task's known mask (review), a redrawn
    # adjudication (overlap), a guideline's example image
    assert len(file_operations) == 10
    for path, method, op in file_operations:
        assert op.get(BODY_KIND_KEY) in ("upload", "mask"), (method, path)
