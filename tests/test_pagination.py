"""Every JSON list pages the same way: `limit` and `cursor` in, `{items, next_cursor, next}` and a Link header
out. Each list is walked page by page and must equal the whole list, with no row twice."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests.factories import login, make_project, make_user, png_bytes
from tests.scenes import add_items, lease


def walk(client, path: str, limit: int) -> tuple[list[dict[str, Any]], int]:  # type: ignore[no-untyped-def]
    """Every row of a list, following `next`; returns the rows and how many pages it took."""
    rows, pages, url = [], 0, f"{path}?limit={limit}"
    while url:
        r = client.get(url)
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) >= {"items", "next_cursor", "next"} and len(body["items"]) <= limit
        rows += body["items"]
        pages += 1
        url = body["next"]
        if url:
            assert r.headers["Link"] == f'<{url}>; rel="next"' and f"cursor={body['next_cursor']}" in url
        else:
            assert "Link" not in r.headers and body["next_cursor"] is None
    return rows, pages


@pytest.fixture
def scene(client):  # type: ignore[no-untyped-def]
    """A lead in 5 projects; the first has 5 items, 5 model versions, a task with 5 annotation versions, 3 tokens."""
    from app.db import session_scope, utcnow
    from app.modeling.models import ModelStatus, ModelVersion

    make_user("lead", "lead")
    pids = [make_project(name=f"p{n}", owner="lead") for n in (4, 2, 0, 3, 1)]
    pid = pids[2]
    add_items(pid, 5)
    with session_scope() as session:
        for v in range(1, 6):
            session.add(ModelVersion(project_id=pid, version=v, status=ModelStatus.failed, error="test",
                                     created_at=utcnow()))
    tid = lease(pid, "lead")
    csrf = login(client, "lead")
    mask = png_bytes(np.zeros((16, 16), np.uint8))
    for n in range(5):
        r = client.post(f"/api/v1/projects/{pid}/tasks/{tid}/annotations", headers={"X-CSRF-Token": csrf},
                        files={"mask": ("m.png", mask)}, data={"client_token": f"t{n}"})
        assert r.status_code in (200, 201), r.text
    for n in range(3):
        client.post("/api/v1/auth/tokens", json={"name": f"t{n}"}, headers={"X-CSRF-Token": csrf})
    return pid, tid


@pytest.mark.parametrize("limit", [1, 2, 5, 500])
def test_every_list_pages_to_the_whole_list(client, scene, limit):
    pid, tid = scene
    lists = {"/api/v1/projects": ("name", [f"p{n}" for n in range(5)]),
             f"/api/v1/projects/{pid}/items": ("name", [f"{n}.png" for n in range(5)]),
             f"/api/v1/projects/{pid}/models": ("version", [5, 4, 3, 2, 1]),
             f"/api/v1/projects/{pid}/tasks/{tid}/annotations": ("version", [1, 2, 3, 4, 5]),
             f"/api/v1/projects/{pid}/queue": ("item_id", None),
             "/api/v1/auth/tokens": ("name", ["t0", "t1", "t2"])}
    for path, (key, expected) in lists.items():
        rows, pages = walk(client, path, limit)
        values = [r[key] for r in rows]
        if expected is None:  # the queue: every open task once (the labeled one is no longer open)
            expected = sorted(values)
            assert len(values) == 4 and len(set(values)) == 4
        else:
            assert values == expected, path
        assert pages == max(1, -(-len(expected) // limit)), (path, pages)


def test_queue_page_keeps_its_ranking_version(client, scene):
    pid, _ = scene
    body = client.get(f"/api/v1/projects/{pid}/queue?limit=2").json()
    assert "model_version_id" in body and len(body["items"]) == 2 and body["next"]


def test_limit_and_cursor_are_checked(client, scene):
    pid, _ = scene
    path = f"/api/v1/projects/{pid}/items"
    assert len(client.get(f"{path}?limit=100000").json()["items"]) == 5  # cut to the maximum, not refused
    assert client.get(f"{path}").json()["next"] is None  # default limit 50
    for bad in ("limit=0", "limit=-1", "limit=x"):
        r = client.get(f"{path}?{bad}")
        assert r.status_code == 422 and "limit" in r.text, bad
    for bad in ("nonsense", "bzo6LTE", "x" * 100, "%00"):  # "o:-1" in base64 among them
        r = client.get(f"{path}?cursor={bad}")
        assert r.status_code == 422 and "cursor" in r.text, bad


@pytest.mark.parametrize("limit", [1, 2, 500])
def test_the_desks_lists_page_to_the_whole_list(client, limit):
    """The lists the desks added (members, splits, error types, reviews..., users, the audit log) walked the
    same way; each equals what one page of 500 holds."""
    from app.review.models import DEFAULT_ERROR_TYPES

    make_user("root", "admin")
    for name in ("cat", "ann", "Bob", "dee"):
        make_user(name)
    pid = make_project(name="desk", owner="root", members=("cat", "ann", "Bob", "dee"))
    add_items(pid, 3)
    login(client, "root")
    base = f"/api/v1/projects/{pid}"
    lists = {f"{base}/members": ("username", ["Bob", "ann", "cat", "dee", "root"]),
             f"{base}/validation/items": ("name", ["0.png", "1.png", "2.png"]),
             f"{base}/error-types": ("name", list(DEFAULT_ERROR_TYPES)),
             f"{base}/policy/versions": ("version", None),
             f"{base}/reviews": ("id", []), f"{base}/gold": ("id", []), f"{base}/quality-scores": ("user_id", []),
             f"{base}/disagreements": ("task_id", []), f"{base}/alerts/breaches": ("id", []),
             f"{base}/alerts/deliveries": ("id", []),
             "/api/v1/users": ("username", ["ann", "Bob", "cat", "dee", "root"]),
             "/api/v1/audit": ("id", None)}
    for path, (key, expected) in lists.items():
        rows, pages = walk(client, path, limit)
        whole = client.get(f"{path}?limit=500").json()["items"]
        assert [r[key] for r in rows] == [r[key] for r in whole], path
        if expected is not None:
            assert [r[key] for r in rows] == expected, path
        assert len(whole) >= 1 or path.rsplit("/", 1)[1] in {"reviews", "gold", "quality-scores", "disagreements",
                                                               "breaches", "deliveries"}, path
        assert pages == max(1, -(-len(whole) // limit)), (path, pages)
    assert client.get("/api/v1/users?limit=2").json()["total"] == 5
