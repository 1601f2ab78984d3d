"""The audit log: every change of the people desk is recorded with who did it; filters and keyset pages."""

from __future__ import annotations

from tests.factories import make_project, make_user
from tests.people.conftest import user_id


def test_the_desk_records_create_deactivate_reset_role_and_membership(client, admin):
    make_user("lead", "lead")
    pid = make_project(owner="lead")
    r = client.post("/api/v1/users", headers=admin, json={"username": "ann", "password": "violet-harbor-42"})
    uid = r.json()["user"]["id"]
    client.put(f"/api/v1/users/{uid}/role", headers=admin, json={"role": "lead"})
    client.put(f"/api/v1/users/{uid}/projects/{pid}", headers=admin)
    client.delete(f"/api/v1/users/{uid}/projects/{pid}", headers=admin)
    client.post(f"/api/v1/users/{uid}/password", headers=admin, json={})
    client.post(f"/api/v1/users/{uid}/deactivate", headers=admin)
    client.post(f"/api/v1/users/{uid}/reactivate", headers=admin)
    items = client.get("/api/v1/audit", params={"entity": "user", "entity_id": uid}).json()["items"]
    assert [e["action"] for e in items] == ["user.reactivate", "user.deactivate", "user.password_reset",
                                            "membership.remove", "membership.add", "user.set_role", "user.create"]
    assert {e["username"] for e in items} == {"root"} and {e["user_id"] for e in items} == {user_id("root")}
    by_action = {e["action"]: e for e in items}
    assert by_action["user.set_role"]["detail"] == {"username": "ann", "from": "annotator", "to": "lead"}
    assert by_action["membership.add"]["project_id"] == pid
    assert by_action["user.password_reset"]["detail"]["generated"] is True


def test_filters_by_user_project_and_action(client, admin):
    make_user("lead", "lead")
    p1, p2 = make_project(name="one", owner="lead"), make_project(name="two", owner="lead")
    for name in ("a1", "a2"):
        make_user(name)
        client.put(f"/api/v1/users/{user_id(name)}/projects/{p1}", headers=admin)
    client.put(f"/api/v1/users/{user_id('a1')}/projects/{p2}", headers=admin)
    in_p1 = client.get("/api/v1/audit", params={"project_id": p1, "action": "membership.add"}).json()["items"]
    assert sorted(e["entity_id"] for e in in_p1) == sorted([user_id("a1"), user_id("a2")])
    by_root = client.get("/api/v1/audit", params={"user_id": user_id("root")}).json()["items"]
    assert len(by_root) == 3 and {e["action"] for e in by_root} == {"membership.add"}
    creates = client.get("/api/v1/audit", params={"action": "project.create"}).json()["items"]
    assert sorted(e["project_id"] for e in creates) == [p1, p2]
    # The page's filters: only project two's entries are listed.
    page = client.get("/audit", params={"project": p2})
    assert page.status_code == 200
    assert page.text.count('data-action="membership.add"') == 1 and 'data-action="project.create"' in page.text


def test_keyset_pages_walk_older_and_back_newer_without_gaps_or_repeats(client, admin):
    for i in range(11):
        make_user(f"u{i:02d}")
    everything = [e["id"] for e in client.get("/api/v1/audit", params={"limit": 500}).json()["items"]]
    assert everything == sorted(everything, reverse=True) and len(everything) == 12  # root + 11
    pages, params = [], {"limit": 5}
    while True:
        body = client.get("/api/v1/audit", params=params).json()
        pages.append([e["id"] for e in body["items"]])
        if body["older"] is None:
            break
        params = {"limit": 5, "before": body["older"]}
    assert [len(p) for p in pages] == [5, 5, 2]
    assert [i for p in pages for i in p] == everything
    back = client.get("/api/v1/audit", params={"limit": 5, "after": pages[2][0]}).json()
    assert [e["id"] for e in back["items"]] == pages[1] and back["newer"] == pages[1][0] and back["older"]
    first = client.get("/api/v1/audit", params={"limit": 5, "after": pages[1][0]}).json()
    assert [e["id"] for e in first["items"]] == pages[0] and first["newer"] is None
    # The page (50 a page) links the same way: from below the first five, newer leads back to them and
    # nothing is older than the last.
    html = client.get("/audit", params={"before": pages[0][-1]}).text
    assert html.count("<tr data-action=") == 7
    assert f'after={pages[1][0]}" rel="prev"' in html and 'rel="next"' not in html


def test_detail_is_shown_escaped(client, admin):
    make_user("lead", "lead")
    evil = "<script>alert(1)</script>"
    make_project(name=evil, owner="lead")
    html = client.get("/audit", params={"action": "project.create"}).text
    assert evil not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_non_admins_get_403_from_the_audit_page(client):
    from tests.factories import login

    make_user("lead", "lead")
    login(client, "lead")
    r = client.get("/audit", headers={"accept": "text/html"})
    assert r.status_code == 403 and "admin" in r.text
