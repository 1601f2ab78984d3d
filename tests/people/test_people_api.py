"""The people desk's JSON API: users, roles, passwords, membership; refusals write nothing."""

from __future__ import annotations

import pytest

from tests.factories import login, make_project, make_user
from tests.people.conftest import add_labels, user_id, worked_project
from tests.scenes import add_tiny_tasks


def audit_count() -> int:
    from sqlalchemy import func, select

    from app.audit.models import AuditLog
    from app.db import session_scope

    with session_scope() as session:
        return int(session.scalar(select(func.count()).select_from(AuditLog)) or 0)


def live_sessions(uid: int) -> int:
    from sqlalchemy import func, select

    from app.auth.models import UserSession
    from app.db import session_scope

    with session_scope() as session:
        return int(session.scalar(select(func.count()).select_from(UserSession)
                                  .where(UserSession.user_id == uid, UserSession.revoked_at.is_(None))) or 0)


def live_leases(uid: int) -> int:
    from sqlalchemy import func, select

    from app.db import session_scope, utcnow
    from app.queue.models import Lease

    with session_scope() as session:
        return int(session.scalar(select(func.count()).select_from(Lease).where(
            Lease.user_id == uid, Lease.released_at.is_(None), Lease.expires_at > utcnow())) or 0)


def test_admin_creates_users_with_a_chosen_or_a_generated_password(client, admin):
    r = client.post("/api/v1/users", headers=admin, json={"username": "ann", "role": "annotator",
                                                          "password": "violet-harbor-42"})
    assert r.status_code == 201, r.text
    assert r.json()["generated_password"] is None and r.json()["user"]["role"] == "annotator"
    r = client.post("/api/v1/users", headers=admin, json={"username": "bob", "role": "lead"})
    generated = r.json()["generated_password"]
    assert r.status_code == 201 and len(generated) >= 10
    other = client.__class__(client.app)
    assert other.post("/api/v1/auth/login", json={"username": "bob", "password": generated}).status_code == 200
    assert other.post("/api/v1/auth/login", json={"username": "ann", "password": "violet-harbor-42"}).status_code == 200


def test_password_policy_and_user_name_rules_apply(client, admin):
    before = audit_count()
    r = client.post("/api/v1/users", headers=admin, json={"username": "ann", "password": "short"})
    assert r.status_code == 422 and "password" in r.json()["detail"]
    r = client.post("/api/v1/users", headers=admin, json={"username": "a b<", "password": "violet-harbor-42"})
    assert r.status_code == 422 and "user name" in r.json()["detail"]
    assert audit_count() == before
    assert client.get("/api/v1/users", params={"name": "ann"}).json()["total"] == 0


def test_duplicate_name_is_refused_in_any_letter_case_and_writes_nothing(client, admin):
    make_user("ann")
    before = audit_count()
    for name in ("ann", "ANN"):
        r = client.post("/api/v1/users", headers=admin, json={"username": name, "password": "violet-harbor-42"})
        assert r.status_code == 409 and "exists" in r.json()["detail"]
    assert audit_count() == before
    assert client.get("/api/v1/users").json()["total"] == 2  # root and ann


def test_list_is_paginated_and_filtered_by_role_and_active(client, admin):
    for i in range(7):
        make_user(f"ann{i}")
    make_user("lead", "lead")
    uid = user_id("ann3")
    assert client.post(f"/api/v1/users/{uid}/deactivate", headers=admin).status_code == 200
    page1 = client.get("/api/v1/users", params={"limit": 4}).json()
    page2 = client.get(page1["next"]).json()
    assert page1["total"] == page2["total"] == 9
    names = [u["username"] for u in page1["items"] + page2["items"]]
    assert len(names) == 8 and len(set(names)) == 8 and names == sorted(names, key=str.lower)
    leads = client.get("/api/v1/users", params={"role": "lead"}).json()["items"]
    assert [u["username"] for u in leads] == ["lead"]
    inactive = client.get("/api/v1/users", params={"active": "false"}).json()["items"]
    assert [u["username"] for u in inactive] == ["ann3"]
    assert client.get("/api/v1/users", params={"active": "true"}).json()["total"] == 8
    assert client.get("/api/v1/users", params={"role": "boss"}).status_code == 422


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_deactivated_user_cannot_log_in_their_sessions_end_and_their_labels_remain(client, admin, backend):
    from datetime import UTC, datetime

    pid = worked_project()
    add_labels(pid, "ann", [(datetime.now(UTC), 12.0), (datetime.now(UTC), 20.0)])
    annotator = client.__class__(client.app)
    token = login(annotator, "ann")
    assert annotator.get(f"/api/v1/projects/{pid}").status_code == 200
    assert annotator.post(f"/api/v1/projects/{pid}/tasks/next", headers={"X-CSRF-Token": token}).status_code == 200
    uid = user_id("ann")
    assert live_leases(uid) == 1
    r = client.post(f"/api/v1/users/{uid}/deactivate", headers=admin)
    assert r.status_code == 200 and r.json()["is_active"] is False
    assert annotator.get(f"/api/v1/projects/{pid}").status_code == 401  # the live session ended
    assert live_sessions(uid) == 0  # revoked, not only refused while inactive: reactivating does not revive it
    assert live_leases(uid) == 0  # the task is back in the queue now, not in 15 minutes
    assert annotator.post(f"/api/v1/projects/{pid}/tasks/next", headers={"X-CSRF-Token": token}).status_code == 401
    again = annotator.post("/api/v1/auth/login", json={"username": "ann", "password": "password-123"})
    assert again.status_code == 401
    record = client.get(f"/api/v1/users/{uid}/activity").json()
    assert record["labels"] == 2 and record["user"]["is_active"] is False
    assert [p["project"]["id"] for p in record["projects"]] == [pid]
    # Reactivated, the same password works again.
    assert client.post(f"/api/v1/users/{uid}/reactivate", headers=admin).json()["is_active"] is True
    assert annotator.get(f"/api/v1/projects/{pid}").status_code == 401
    assert login(annotator, "ann")


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_the_last_active_admin_cannot_be_deactivated_or_demoted_and_nothing_is_written(client, admin, backend):
    root = user_id("root")
    make_user("other", "admin")
    other = user_id("other")
    before = audit_count()
    # With a second admin, demoting one is fine...
    assert client.put(f"/api/v1/users/{other}/role", headers=admin, json={"role": "lead"}).status_code == 200
    assert audit_count() == before + 1
    before = audit_count()
    # ...but now root is the last one.
    r = client.post(f"/api/v1/users/{root}/deactivate", headers=admin)
    assert r.status_code == 409 and "last active admin" in r.json()["detail"]
    for role in ("lead", "annotator"):
        r = client.put(f"/api/v1/users/{root}/role", headers=admin, json={"role": role})
        assert r.status_code == 409 and "last active admin" in r.json()["detail"]
    assert audit_count() == before
    me = client.get(f"/api/v1/users/{root}").json()
    assert me["role"] == "admin" and me["is_active"] is True
    # A deactivated admin does not count: deactivate `other` as admin, root is still the last active one.
    assert client.put(f"/api/v1/users/{other}/role", headers=admin, json={"role": "admin"}).status_code == 200
    assert client.post(f"/api/v1/users/{other}/deactivate", headers=admin).status_code == 200
    assert client.post(f"/api/v1/users/{root}/deactivate", headers=admin).status_code == 409


def test_password_reset_ends_sessions_and_the_generated_one_is_returned_once(client, admin):
    make_user("ann")
    uid = user_id("ann")
    annotator = client.__class__(client.app)
    login(annotator, "ann")
    r = client.post(f"/api/v1/users/{uid}/password", headers=admin, json={})
    generated = r.json()["generated_password"]
    assert r.status_code == 200 and generated
    assert annotator.get("/api/v1/auth/me").status_code == 401
    assert annotator.post("/api/v1/auth/login", json={"username": "ann", "password": "password-123"}).status_code == 401
    assert login(annotator, "ann", generated)
    r = client.post(f"/api/v1/users/{uid}/password", headers=admin, json={"password": "tiny"})
    assert r.status_code == 422 and "password" in r.json()["detail"]
    r = client.post(f"/api/v1/users/{uid}/password", headers=admin, json={"password": "violet-harbor-42"})
    assert r.status_code == 200 and r.json()["generated_password"] is None
    assert login(annotator, "ann", "violet-harbor-42")
    # The password itself is never in the audit log.
    log = client.get("/api/v1/audit", params={"action": "user.password_reset"}).text
    assert generated not in log and "violet-harbor-42" not in log


def test_membership_is_added_and_removed_from_the_users_side(client, admin):
    make_user("lead", "lead")
    make_user("ann")
    pid = make_project(owner="lead")
    uid = user_id("ann")
    r = client.put(f"/api/v1/users/{uid}/projects/{pid}", headers=admin)
    assert r.status_code == 200 and [p["id"] for p in r.json()["projects"]] == [pid]
    add_tiny_tasks(pid, 2)
    annotator = client.__class__(client.app)
    token = login(annotator, "ann")
    assert annotator.get(f"/api/v1/projects/{pid}").status_code == 200
    assert annotator.post(f"/api/v1/projects/{pid}/tasks/next", headers={"X-CSRF-Token": token}).status_code == 200
    assert live_leases(uid) == 1
    r = client.delete(f"/api/v1/users/{uid}/projects/{pid}", headers=admin)
    assert r.status_code == 200 and r.json()["projects"] == []
    assert annotator.get(f"/api/v1/projects/{pid}").status_code == 404
    assert live_leases(uid) == 0
    assert client.delete(f"/api/v1/users/{uid}/projects/{pid}", headers=admin).status_code == 404
    r = client.put(f"/api/v1/users/{uid}/projects/99999", headers=admin)
    assert r.status_code == 404 and "project_id" in r.json()["detail"]
    assert client.put(f"/api/v1/users/99999/projects/{pid}", headers=admin).status_code == 404


def test_non_admins_get_403_from_the_desk_and_nothing_changes(client):
    make_user("root", "admin")
    make_user("lead", "lead")
    make_user("ann")
    uid = user_id("ann")
    pid = make_project(owner="lead")
    for who in ("lead", "ann"):
        token = login(client, who)
        h = {"X-CSRF-Token": token}
        for method, path, body in [
            ("GET", "/api/v1/users", None), ("GET", f"/api/v1/users/{uid}", None),
            ("POST", "/api/v1/users", {"username": "x1", "password": "violet-harbor-42"}),
            ("POST", f"/api/v1/users/{uid}/deactivate", None), ("POST", f"/api/v1/users/{uid}/reactivate", None),
            ("PUT", f"/api/v1/users/{uid}/role", {"role": "admin"}), ("POST", f"/api/v1/users/{uid}/password", {}),
            ("PUT", f"/api/v1/users/{uid}/projects/{pid}", None),
            ("DELETE", f"/api/v1/users/{uid}/projects/{pid}", None),
            ("GET", "/api/v1/audit", None),
        ]:
            r = client.request(method, path, headers=h, json=body)
            assert r.status_code == 403, (who, method, path, r.status_code)
    login(client, "root")
    assert client.get("/api/v1/users", params={"name": "x1"}).json()["total"] == 0
    assert client.get(f"/api/v1/users/{uid}").json()["role"] == "annotator"


def test_state_changes_need_the_csrf_token(client, admin):
    make_user("ann")
    uid = user_id("ann")
    assert client.post(f"/api/v1/users/{uid}/deactivate").status_code == 403
    assert client.post(f"/api/v1/users/{uid}/deactivate", headers={"X-CSRF-Token": "nope"}).status_code == 403
    assert client.get(f"/api/v1/users/{uid}").json()["is_active"] is True


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_hostile_values_on_the_desk_as_an_admin_give_no_server_error(client, admin, backend):
    """tests/test_edge_schema.py drives every operation as a lead, which this desk answers 403; here its
    driver runs the desk's operations as the admin, so the values reach the services."""
    from fastapi.testclient import TestClient

    from tests.test_edge_schema import cases

    worked_project()
    pid = make_project(name="other", owner="lead")
    spec = client.app.openapi()
    spec = {**spec, "paths": {p: ops for p, ops in spec["paths"].items()
                              if p.startswith(("/api/v1/users", "/api/v1/audit"))}}
    hostile = TestClient(client.app, raise_server_exceptions=False)
    hostile.cookies = client.cookies
    ids = {"user_id": str(user_id("ann")), "project_id": str(pid)}
    errors, total = [], 0
    for method, url, kwargs in cases(spec, ids, b"", b""):
        r = hostile.request(method, url, headers=admin | kwargs.pop("headers", {}), **kwargs)
        total += 1
        if r.status_code >= 500:
            errors.append((method, url[:120], str(kwargs)[:160], r.status_code, r.text[:200]))
    assert total > 300
    assert not errors, f"{len(errors)} server errors, first ones: {errors[:10]}"
