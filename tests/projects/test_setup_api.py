"""A project's setup through the API: edit, classes, archive, members and their roles, the validation split."""

from __future__ import annotations

import numpy as np

from tests.factories import login, make_project, make_user, png_bytes
from tests.scenes import add_items


def csrf(token: str) -> dict[str, str]:
    return {"X-CSRF-Token": token}


def test_archive_hides_the_project_from_annotators_and_stops_leases(client):
    make_user("lead", "lead")
    make_user("ann")
    pid = make_project(owner="lead", members=("ann",))
    add_items(pid, 2)
    token = login(client, "lead")
    r = client.post(f"/api/v1/projects/{pid}/archive", headers=csrf(token))
    assert r.status_code == 200 and r.json()["archived_at"]
    assert [p["id"] for p in client.get("/api/v1/projects?archived=true").json()["items"]] == [pid]
    assert client.get("/api/v1/projects").json()["items"] == []
    token = login(client, "ann")
    assert client.get("/api/v1/projects").json()["items"] == []
    assert client.get("/api/v1/projects?archived=true").json()["items"] == []
    assert f"/projects/{pid}/label" not in client.get("/").text
    r = client.post(f"/api/v1/projects/{pid}/tasks/next", headers=csrf(token))
    assert r.status_code == 409 and r.json()["code"] == "project_archived"
    token = login(client, "lead")
    r = client.post(f"/api/v1/projects/{pid}/validation/next", headers=csrf(token))
    assert r.status_code == 409 and r.json()["code"] == "project_archived"
    assert client.get(f"/api/v1/projects/{pid}/items").status_code == 200  # nothing deleted
    assert len(client.get(f"/api/v1/projects/{pid}/items").json()["items"]) == 2
    assert client.post(f"/api/v1/projects/{pid}/unarchive", headers=csrf(token)).json()["archived_at"] is None
    token = login(client, "ann")
    assert [p["id"] for p in client.get("/api/v1/projects").json()["items"]] == [pid]
    assert client.post(f"/api/v1/projects/{pid}/tasks/next", headers=csrf(token)).status_code == 200


def test_member_roles_default_from_the_global_role_and_a_change_takes_effect(client):
    make_user("lead", "lead")
    make_user("lead2", "lead")
    make_user("ann")
    pid = make_project(owner="lead")
    token = login(client, "lead")
    for name in ("ann", "lead2"):
        assert client.post(f"/api/v1/projects/{pid}/members", json={"username": name},
                           headers=csrf(token)).status_code == 201
    roles = {m["username"]: m["role"] for m in client.get(f"/api/v1/projects/{pid}/members").json()["items"]}
    assert roles == {"lead": "lead", "lead2": "lead", "ann": "annotator"}
    ids = {m["username"]: m["user_id"] for m in client.get(f"/api/v1/projects/{pid}/members").json()["items"]}

    # lead2, made an annotator of this project, loses its settings; ann, made its lead, gains them.
    assert client.patch(f"/api/v1/projects/{pid}/members/{ids['lead2']}", json={"role": "annotator"},
                        headers=csrf(token)).json()["role"] == "annotator"
    assert client.patch(f"/api/v1/projects/{pid}/members/{ids['ann']}", json={"role": "lead"},
                        headers=csrf(token)).status_code == 200
    token = login(client, "lead2")
    assert client.patch(f"/api/v1/projects/{pid}", json={"description": "x"}, headers=csrf(token)).status_code == 403
    assert client.get(f"/projects/{pid}/settings").status_code == 403
    token = login(client, "ann")
    assert client.patch(f"/api/v1/projects/{pid}", json={"description": "by ann"},
                        headers=csrf(token)).json()["description"] == "by ann"
    assert client.get(f"/projects/{pid}/settings").status_code == 200
    assert client.patch(f"/api/v1/projects/{pid}/members/{ids['ann']}", json={"role": "boss"},
                        headers=csrf(token)).status_code == 422

    # Removing a member takes the project away from them (404, as for any non-member).
    assert client.delete(f"/api/v1/projects/{pid}/members/{ids['lead2']}", headers=csrf(token)).status_code == 200
    token = login(client, "lead2")
    assert client.get(f"/api/v1/projects/{pid}").status_code == 404


def test_the_last_lead_cannot_leave_or_be_demoted(client):
    make_user("lead", "lead")
    pid = make_project(owner="lead")
    token = login(client, "lead")
    me = client.get(f"/api/v1/projects/{pid}/members").json()["items"][0]["user_id"]
    r = client.patch(f"/api/v1/projects/{pid}/members/{me}", json={"role": "reviewer"}, headers=csrf(token))
    assert r.status_code == 409 and "at least one lead" in r.json()["detail"]
    assert client.delete(f"/api/v1/projects/{pid}/members/{me}", headers=csrf(token)).status_code == 409


def test_edit_and_classes_refuse_bad_input_naming_the_field_and_change_nothing(client):
    make_user("lead", "lead")
    pid = make_project(owner="lead")
    make_project(name="other", owner="lead")
    token = login(client, "lead")
    for body, field in [({"name": "other"}, "name"), ({"validation_share": 1.5}, "validation_share"),
                        ({"steered_share": -0.1, "description": "new"}, "steered_share"),
                        ({"label_budget": 0}, "label_budget")]:
        r = client.patch(f"/api/v1/projects/{pid}", json=body, headers=csrf(token))
        assert r.status_code == 422 and field in str(r.json()["detail"]), (body, r.text)
    assert client.get(f"/api/v1/projects/{pid}").json()["description"] == ""
    classes = client.get(f"/api/v1/projects/{pid}").json()["classes"]
    for bad, words in [([("bg", "#000000"), ("a", "#111111"), ("Bg", "#ffffff")], "unique"),
                       ([("bg", "#000000"), ("a", "red"), ("b", "#222222")], "#rrggbb"),
                       ([("bg", "#000000")], "cannot be removed")]:
        r = client.put(f"/api/v1/projects/{pid}/classes", headers=csrf(token),
                       json={"classes": [{"name": n, "color": c} for n, c in bad]})
        assert r.status_code == 422 and "classes" in r.json()["detail"] and words in r.json()["detail"], r.text
    assert client.get(f"/api/v1/projects/{pid}").json()["classes"] == classes
    r = client.put(f"/api/v1/projects/{pid}/classes", headers=csrf(token), json={"classes": [
        {"name": "background", "color": "#000000"}, {"name": "curve-1", "color": "#ff0000"},
        {"name": "curve-2", "color": "#1f77d4"}, {"name": "marker", "color": "#00FF00"}]})
    assert r.status_code == 200
    assert [(c["index"], c["name"], c["color"]) for c in r.json()["classes"]][-2:] == [
        (2, "curve-2", "#1f77d4"), (3, "marker", "#00ff00")]


def test_validation_share_redraw_pick_and_the_validation_line(client):
    make_user("lead", "lead")
    make_user("ann")
    pid = make_project(owner="lead", members=("ann",), retrain_every=1000)
    add_items(pid, 10)
    token = login(client, "lead")
    r = client.post(f"/api/v1/projects/{pid}/validation/redraw", json={"validation_share": 0.3, "seed": 1},
                    headers=csrf(token))
    assert r.status_code == 200 and r.json() == {"validation_share": 0.3, "target": 3, "validation": 3,
                                                  "moved_in": 3, "moved_out": 0, }
    items = client.get(f"/api/v1/projects/{pid}/validation/items").json()["items"]
    held_out = [i["id"] for i in items if i["split"] == "validation"]
    assert len(held_out) == 3
    assert client.post(f"/api/v1/projects/{pid}/validation/redraw", json={"validation_share": 2},
                       headers=csrf(token)).status_code == 422

    # The validation line hands out validation tasks in order; the annotators' queue never does.
    r = client.post(f"/api/v1/projects/{pid}/validation/next", headers=csrf(token))
    task = r.json()
    assert r.status_code == 200 and task["item_id"] == min(held_out)
    mask = np.zeros((16, 16), np.uint8)
    s = client.post(f"/api/v1/projects/{pid}/tasks/{task['id']}/annotations", headers=csrf(token),
                    files={"mask": ("m.png", png_bytes(mask), "image/png")})
    assert s.status_code == 201, s.text
    assert client.post(f"/api/v1/projects/{pid}/validation/next", headers=csrf(token)).json()["item_id"] == sorted(
        held_out)[1]

    # A labeled image keeps its split; the pick is all or none.
    labeled, free = held_out[0], next(i["id"] for i in items if i["split"] == "pool")
    r = client.post(f"/api/v1/projects/{pid}/validation/pick", json={"item_ids": [free, labeled], "split": "pool"},
                    headers=csrf(token))
    assert r.status_code == 409 and f"image {labeled}" in r.json()["detail"]
    assert client.post(f"/api/v1/projects/{pid}/validation/pick", json={"item_ids": [free]},
                       headers=csrf(token)).json() == {"moved": 1}
    page = client.get(f"/projects/{pid}/label?mode=validation")
    assert page.status_code == 200 and 'data-next-path="/validation/next"' in page.text
    assert "Validation mode" in page.text and "1 of 4 labeled" in page.text

    token = login(client, "ann")
    seen = set()
    for _ in range(6):  # 10 images, 4 held out
        r = client.post(f"/api/v1/projects/{pid}/tasks/next", headers=csrf(token))
        assert r.status_code == 200
        seen.add(r.json()["item_id"])
        client.post(f"/api/v1/projects/{pid}/tasks/{r.json()['id']}/skip", json={"reason": "next"},
                    headers=csrf(token))
    assert client.post(f"/api/v1/projects/{pid}/tasks/next", headers=csrf(token)).status_code == 404
    assert not seen & {*held_out, free}
    assert client.post(f"/api/v1/projects/{pid}/validation/next", headers=csrf(token)).status_code == 403
    assert client.get(f"/projects/{pid}/label?mode=validation").status_code == 403
