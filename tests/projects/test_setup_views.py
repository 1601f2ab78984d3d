"""The lead's setup pages: forms that work, and refusals shown on the page naming the field, nothing saved."""

from __future__ import annotations

from datetime import timedelta

from app.db import utcnow
from tests.factories import login, make_project, make_user
from tests.scenes import add_items


def new_project_form(token: str, **over: object) -> dict:
    form: dict = {"csrf_token": token, "name": "Roads", "description": "aerial <b>roads</b>", "strategy": "entropy",
                  "steered_share": "0.2", "retrain_every": "25", "task_tile": "", "validation_share": "0.25",
                  "class_name": ["background", "road", "car", ""], "class_color": ["#000000", "#FF8800", "#0000ff",
                                                                                  "#123456"]}
    form.update(over)
    return form


def test_a_lead_creates_a_project_in_the_browser_and_lands_on_its_settings(client):
    make_user("lead", "lead")
    token = login(client, "lead")
    page = client.get("/")
    assert 'href="/projects/new"' in page.text
    assert client.get("/projects/new").status_code == 200
    r = client.post("/projects/new", data=new_project_form(token), follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("/settings?created=1")
    project = client.get("/api/v1/projects").json()["items"][0]
    assert (project["name"], project["strategy"], project["steered_share"], project["retrain_every"],
            project["validation_share"]) == ("Roads", "entropy", 0.2, 25, 0.25)
    assert [(c["name"], c["color"]) for c in project["classes"]] == [
        ("background", "#000000"), ("road", "#ff8800"), ("car", "#0000ff")]
    settings = client.get(r.headers["location"])
    assert 'href="/projects/1/import"' in settings.text and "Project created" in settings.text
    assert "aerial &lt;b&gt;roads&lt;/b&gt;" in settings.text  # user text is escaped


def test_bad_new_project_input_comes_back_on_the_page_naming_the_field(client):
    make_user("lead", "lead")
    make_user("ann")
    token = login(client, "lead")
    cases = [
        ({"class_name": ["background", "road", "Road"], "class_color": ["#000000", "#ff0000", "#00ff00"]},
         "classes: class names must be unique"),
        ({"class_name": ["background", "road"], "class_color": ["#000000", "red"]}, "colour must look like #rrggbb"),
        ({"validation_share": "1.5"}, "validation_share must be between 0 and 1"),
        ({"steered_share": "abc"}, "steered_share must be a number"),
        ({"name": ""}, "name: the project name"),
    ]
    for over, message in cases:
        r = client.post("/projects/new", data=new_project_form(token, **over))
        assert r.status_code == 422 and message in r.text, (over, r.text[-600:])
        assert 'value="Roads"' in r.text or over.get("name") == ""  # the form keeps what was typed
    assert client.get("/api/v1/projects").json()["items"] == []
    login(client, "ann")
    assert client.get("/projects/new").status_code == 403
    assert 'href="/projects/new"' not in client.get("/").text


def test_general_tab_saves_refuses_and_archives(client):
    make_user("lead", "lead")
    pid = make_project(owner="lead")
    token = login(client, "lead")
    form = {"csrf_token": token, "name": "p2", "description": "d", "strategy": "margin", "steered_share": "0.3",
            "retrain_every": "7", "task_tile": ""}
    r = client.post(f"/projects/{pid}/settings", data=form, follow_redirects=False)
    assert r.status_code == 303
    assert client.get(f"/api/v1/projects/{pid}").json()["strategy"] == "margin"
    r = client.post(f"/projects/{pid}/settings", data={**form, "steered_share": "1.2", "description": "changed"})
    assert r.status_code == 422 and "steered_share must be between 0 and 1" in r.text
    assert client.get(f"/api/v1/projects/{pid}").json()["description"] == "d"
    r = client.post(f"/projects/{pid}/archive", data={"csrf_token": token, "archived": "true"})
    assert r.status_code == 200 and "Bring the project back" in r.text
    assert "Archived" in client.get("/").text
    client.post(f"/projects/{pid}/archive", data={"csrf_token": token, "archived": "false"})
    assert client.get(f"/api/v1/projects/{pid}").json()["archived_at"] is None
    # no CSRF token: refused
    assert client.post(f"/projects/{pid}/archive", data={"archived": "true"}).status_code == 403


def test_classes_tab_renames_and_adds_and_refuses_duplicates(client):
    make_user("lead", "lead")
    pid = make_project(owner="lead")
    token = login(client, "lead")
    page = client.get(f"/projects/{pid}/settings/classes")
    assert page.status_code == 200 and page.text.count('name="class_name"') == 6
    form = {"csrf_token": token, "class_name": ["background", "curve-a", "curve-2", "grid", ""],
            "class_color": ["#202020", "#e6194b", "#1f77d4", "#00aa00", "#000000"]}
    assert client.post(f"/projects/{pid}/settings/classes", data=form, follow_redirects=False).status_code == 303
    names = [c["name"] for c in client.get(f"/api/v1/projects/{pid}").json()["classes"]]
    assert names == ["background", "curve-a", "curve-2", "grid"]
    bad = {**form, "class_name": ["background", "grid", "curve-2", "grid", "x"]}
    r = client.post(f"/projects/{pid}/settings/classes", data=bad)
    assert r.status_code == 422 and "class names must be unique" in r.text
    assert [c["name"] for c in client.get(f"/api/v1/projects/{pid}").json()["classes"]] == names


def test_members_tab_adds_sets_roles_and_removes(client):
    make_user("lead", "lead")
    make_user("ann")
    make_user("rev")
    pid = make_project(owner="lead")
    token = login(client, "lead")
    page = client.get(f"/projects/{pid}/settings/members")
    assert '<option value="ann">' in page.text  # users who can be added are offered
    for name, role in (("ann", ""), ("rev", "reviewer")):
        r = client.post(f"/projects/{pid}/settings/members", data={"csrf_token": token, "username": name,
                                                                     "role": role}, follow_redirects=False)
        assert r.status_code == 303
    r = client.post(f"/projects/{pid}/settings/members", data={"csrf_token": token, "username": "nobody"})
    assert r.status_code == 422 and "username: no user named" in r.text
    members = {m["username"]: m for m in client.get(f"/api/v1/projects/{pid}/members").json()["items"]}
    assert members["ann"]["role"] == "annotator" and members["rev"]["role"] == "reviewer"
    client.post(f"/projects/{pid}/settings/members/{members['ann']['user_id']}/role",
                data={"csrf_token": token, "role": "lead"})
    client.post(f"/projects/{pid}/settings/members/{members['rev']['user_id']}/remove", data={"csrf_token": token})
    now = {m["username"]: m["role"] for m in client.get(f"/api/v1/projects/{pid}/members").json()["items"]}
    assert now == {"lead": "lead", "ann": "lead"}


def test_validation_tab_draws_the_share_and_picks(client):
    make_user("lead", "lead")
    pid = make_project(owner="lead")
    add_items(pid, 8)
    token = login(client, "lead")
    r = client.post(f"/projects/{pid}/settings/validation/redraw", data={"csrf_token": token,
                                                                       "validation_share": "0.5"})
    assert r.status_code == 200 and '<b data-testid="held-out">4</b> of 8' in r.text
    r = client.post(f"/projects/{pid}/settings/validation/redraw", data={"csrf_token": token,
                                                                       "validation_share": "-1"})
    assert r.status_code == 422 and "validation_share must be between 0 and 1" in r.text
    listed = client.get(f"/api/v1/projects/{pid}/validation/items").json()["items"]
    pool = [i["id"] for i in listed if i["split"] == "pool"]
    r = client.post(f"/projects/{pid}/settings/validation/pick", data={"csrf_token": token, "split": "validation",
                                                                     "item_ids": pool[:2]})
    assert '<b data-testid="held-out">6</b> of 8' in r.text


def test_budget_tab_and_burn_down_page(client):
    make_user("lead", "lead")
    pid = make_project(owner="lead")
    token = login(client, "lead")
    assert "No total budget is set" in client.get(f"/projects/{pid}/burndown").text
    today = utcnow().date()
    form = {"csrf_token": token, "label_budget": "100", "total_hours": "", "day_labels": "10", "day_hours": "",
            "week_labels": "", "week_hours": "2.5", "annotator_day_labels": "4", "annotator_day_hours": "",
            "plan_start": today.isoformat(), "plan_end": (today + timedelta(days=9)).isoformat()}
    assert client.post(f"/projects/{pid}/settings/budget", data=form, follow_redirects=False).status_code == 303
    page = client.get(f"/projects/{pid}/settings/budget")
    assert 'value="100"' in page.text and 'value="2.5"' in page.text and "daily (labels)" in page.text
    for field, value, message in [("day_labels", "0", "day_labels must be at least 1"),
                                  ("week_hours", "-2", "week_hours must be more than 0"),
                                  ("label_budget", "ten", "label_budget must be a whole number"),
                                  ("plan_end", "2000-01-01", "plan_end must not be before plan_start")]:
        r = client.post(f"/projects/{pid}/settings/budget", data={**form, "day_labels": "10", field: value})
        assert r.status_code == 422 and message in r.text, (field, r.text[-500:])
    assert client.get(f"/api/v1/projects/{pid}/budget").json()["day_labels"] == 10
    burn = client.get(f"/projects/{pid}/burndown")
    assert burn.status_code == 200 and 'data-testid="burndown-labels"' in burn.text
    assert '<dd data-testid="left-labels">100</dd>' in burn.text and "uPlot.iife.min.js" in burn.text
    api = client.get(f"/api/v1/projects/{pid}/budget/burndown").json()
    assert api[0]["unit"] == "labels" and api[0]["plan"] == [90.0] and api[0]["forecast_date"] is None
    rows = client.get(f"/api/v1/projects/{pid}/budget/burndown.csv").text.splitlines()
    assert rows == ["unit,day,spent,remaining,plan_remaining", f"labels,{today.isoformat()},0,100,90"]
    assert 'data-testid="burndown-csv"' in burn.text
