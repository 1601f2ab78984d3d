"""The people pages: admin-only, forms that change one thing, refusals shown on the page with nothing
written, and the links that lead to them."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from tests.factories import login, make_project, make_user
from tests.people.conftest import user_id

HTML = {"accept": "text/html"}


def form(token: str, **fields: str) -> dict[str, str]:
    return {"csrf_token": token, **fields}


def test_nav_shows_people_and_audit_log_to_admins_only(client):
    make_user("root", "admin")
    make_user("lead", "lead")
    login(client, "root")
    page = client.get("/").text
    assert 'href="/people">People<' in page and 'href="/audit">Audit log<' in page
    login(client, "lead")
    page = client.get("/").text
    assert 'href="/people"' not in page and 'href="/audit"' not in page


def test_create_user_from_the_list_with_a_chosen_and_a_generated_password(client, admin):
    token = admin["X-CSRF-Token"]
    r = client.post("/people", data=form(token, username="ann", role="annotator", password="violet-harbor-42"),
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/people/{user_id('ann')}?notice=created"
    assert "User created." in client.get(r.headers["location"]).text
    r = client.post("/people", data=form(token, username="bob", role="lead", password=""))
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    shown = re.search(r'<code class="secret">([^<]+)</code>', r.text)
    assert shown is not None
    other = client.__class__(client.app)
    assert login(other, "bob", shown.group(1))
    listing = client.get("/people").text
    assert 'data-username="ann"' in listing and 'data-username="bob"' in listing
    assert shown.group(1) not in client.get(f"/people/{user_id('bob')}").text  # shown once


def test_refusals_are_shown_on_the_page_and_write_nothing(client, admin):
    token = admin["X-CSRF-Token"]
    make_user("ann")
    r = client.post("/people", data=form(token, username="Ann", role="annotator", password="violet-harbor-42"))
    assert r.status_code == 409 and "exists already" in r.text and 'value="Ann"' in r.text
    r = client.post("/people", data=form(token, username="cyd", role="annotator", password="password"))
    assert r.status_code == 422 and "password" in r.text
    r = client.post("/people", data=form(token, username="cyd", role="king", password="violet-harbor-42"))
    assert r.status_code == 422 and "role" in r.text
    root = user_id("root")
    for path, data in ((f"/people/{root}/deactivate", {}), (f"/people/{root}/role", {"role": "lead"})):
        r = client.post(path, data=form(token, **data))
        assert r.status_code == 409 and "last active admin" in r.text, path
    audit = client.get("/api/v1/audit").json()["items"]
    assert [e["action"] for e in audit] == ["user.create", "user.create"]  # root and ann, by the factory
    assert client.get("/api/v1/users", params={"name": "cyd"}).json()["total"] == 0
    me = client.get(f"/api/v1/users/{root}").json()
    assert me["role"] == "admin" and me["is_active"]


def test_the_users_page_changes_role_access_password_and_projects(client, admin):
    token = admin["X-CSRF-Token"]
    make_user("lead", "lead")
    make_user("ann")
    pid = make_project(name="roads", owner="lead")
    uid = user_id("ann")
    page = client.get(f"/people/{uid}").text
    assert "Not in any project." in page and f'<option value="{pid}">roads</option>' in page
    steps = [(f"/people/{uid}/role", {"role": "lead"}, "role"), (f"/people/{uid}/projects", {"project_id": str(pid)},
             "added"), (f"/people/{uid}/deactivate", {}, "deactivated"), (f"/people/{uid}/reactivate", {},
             "reactivated"), (f"/people/{uid}/password", {"password": "violet-harbor-42"}, "password"),
             (f"/people/{uid}/projects/{pid}/remove", {}, "removed")]
    for path, data, notice in steps:
        r = client.post(path, data=form(token, **data), follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].endswith(f"notice={notice}"), (path, r.text[:300])
    user = client.get(f"/api/v1/users/{uid}").json()
    assert user["role"] == "lead" and user["is_active"] and user["projects"] == []
    assert login(client.__class__(client.app), "ann", "violet-harbor-42")


def test_non_admins_get_403_pages_and_change_nothing(client):
    make_user("root", "admin")
    make_user("lead", "lead")
    make_user("ann")
    uid = user_id("ann")
    for who in ("lead", "ann"):
        token = login(client, who)
        for path in ("/people", f"/people/{uid}", "/audit"):
            r = client.get(path, headers=HTML)
            assert r.status_code == 403 and 'data-testid="error-page"' in r.text, (who, path)
        for path in (f"/people/{uid}/deactivate", f"/people/{uid}/password"):
            assert client.post(path, data=form(token), headers=HTML).status_code == 403
        r = client.post("/people", data=form(token, username="x1", role="admin", password="violet-harbor-42"))
        assert r.status_code == 403
    login(client, "root")
    assert client.get(f"/api/v1/users/{uid}").json()["is_active"] is True
    assert client.get("/api/v1/users", params={"name": "x1"}).json()["total"] == 0


def test_project_people_page_links_each_member_to_their_record(client):
    make_user("lead", "lead")
    make_user("ann")
    pid = make_project(name="roads", owner="lead", members=("ann",))
    login(client, "lead")
    assert f'href="/projects/{pid}/people"' in client.get(f"/projects/{pid}").text
    page = client.get(f"/projects/{pid}/people").text
    assert f'href="/people/{user_id("ann")}/record?project={pid}"' in page
    # The escalation queue links whoever flagged a task to their record.
    from tests.people.conftest import add_skip_and_flag
    from tests.scenes import add_tiny_tasks

    add_tiny_tasks(pid, 2)
    add_skip_and_flag(pid, "ann")
    assert f'href="/people/{user_id("ann")}/record?project={pid}">ann</a>' in client.get(
        f"/projects/{pid}/escalations").text
    login(client, "ann")
    assert client.get(f"/projects/{pid}/people", headers=HTML).status_code == 403
    assert f'href="/projects/{pid}/people"' not in client.get(f"/projects/{pid}").text


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_hostile_query_and_form_values_on_the_pages_give_no_server_error(client, admin, backend):
    from fastapi.testclient import TestClient

    make_user("ann")
    uid = user_id("ann")
    hostile = TestClient(client.app, raise_server_exceptions=False)
    hostile.cookies = client.cookies
    values = ["%00", "a%00b", "%ED%A0%80", "99999999999", "-1", "x" * 3000, "%FF", ""]
    answered = []
    for v in values:
        for path in (f"/people?name={v}", f"/people?role={v}", f"/people?active={v}", f"/people?page={v}",
                     f"/audit?user={v}", f"/audit?project={v}", f"/audit?action={v}", f"/audit?before={v}",
                     f"/audit?after={v}", f"/audit?entity_id={v}", f"/people/{v}", f"/people/{uid}/record?days={v}",
                     f"/people/{uid}/record?project={v}"):
            answered.append((path[:60], hostile.get(path, headers=HTML).status_code))
    token = admin["X-CSRF-Token"]
    for v in ["a\x00b", "\udcff", "x" * 3000, "", "99999999999"]:
        for path, data in (("/people", {"username": v, "role": "annotator", "password": v}),
                           ("/people", {"username": "ok", "role": v}),
                           (f"/people/{uid}/role", {"role": v}), (f"/people/{uid}/password", {"password": v}),
                           (f"/people/{uid}/projects", {"project_id": v})):
            body = "&".join(f"{k}={quote(x.encode('utf-8', 'surrogatepass'))}" for k, x in form(token, **data).items())
            r = hostile.post(path, content=body, headers=HTML | {"content-type": "application/x-www-form-urlencoded"})
            answered.append((path, r.status_code))
    assert [a for a in answered if a[1] >= 500] == []
    assert client.get(f"/api/v1/users/{uid}").json()["role"] == "annotator"


def test_page_links_keep_the_filters(client, admin):
    from sqlalchemy import insert

    from app.auth.models import Role, User
    from app.auth.passwords import hash_password
    from app.db import session_scope

    digest = hash_password("violet-harbor-42")
    with session_scope() as session:  # many users fast: one insert, one hash
        session.execute(insert(User), [{"username": f"u{i:02d}", "password_hash": digest, "role": Role.annotator,
                                        "is_active": True} for i in range(55)])
    for i in range(53):
        client.put(f"/api/v1/users/{user_id(f'u{i:02d}')}/role", headers=admin, json={"role": "lead"})
    page = client.get("/people", params={"role": "lead"}).text
    assert "page 1 of 3 · 53 users" in page and page.count("<tr data-username=") == 25
    assert 'href="/people?role=lead&amp;page=2" rel="next"' in page
    last = client.get("/people", params={"role": "lead", "page": 3}).text
    assert last.count("<tr data-username=") == 3 and 'href="/people?role=lead&amp;page=2" rel="prev"' in last
    assert 'rel="next"' not in last
    audit = client.get("/audit", params={"action": "user.set_role"}).text
    assert audit.count("<tr data-action=") == 50
    older = re.search(r'href="/audit\?action=user.set_role&amp;before=(\d+)" rel="next"', audit)
    assert older is not None
    rest = client.get("/audit", params={"action": "user.set_role", "before": older.group(1)}).text
    assert rest.count('<tr data-action="user.set_role"') == 3 and 'rel="next"' not in rest
    assert re.search(r'href="/audit\?action=user.set_role&amp;after=\d+" rel="prev"', rest)
