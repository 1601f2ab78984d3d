"""The quality page, the disagreement queue and the adjudication page's forms, without a browser."""

from __future__ import annotations

import pytest

from tests.agreement.scene import disputed_task
from tests.factories import login, make_user

HTML = {"accept": "text/html"}


@pytest.fixture
def scene(client):
    return disputed_task()


def test_pages_are_for_leads_of_the_project(client, scene):
    pid, tid = scene.project_id, scene.task_id
    login(client, "lead")
    overview = client.get(f"/projects/{pid}", headers=HTML).text
    assert f"/projects/{pid}/quality" in overview and f"/projects/{pid}/adjudication" in overview
    quality = client.get(f"/projects/{pid}/quality", headers=HTML)
    assert quality.status_code == 200 and 'id="class-agreement"' in quality.text and "alice · bob" in quality.text
    queue = client.get(f"/projects/{pid}/adjudication", headers=HTML)
    assert f'data-task-id="{tid}"' in queue.text
    page = client.get(f"/projects/{pid}/adjudication/{tid}", headers=HTML)
    assert page.status_code == 200 and 'id="diff-canvas"' in page.text and 'id="merge-form"' in page.text
    login(client, "alice")
    assert client.get(f"/projects/{pid}/quality", headers=HTML).status_code == 403
    assert f"/projects/{pid}/quality" not in client.get(f"/projects/{pid}", headers=HTML).text
    make_user("other", "lead")
    login(client, "other")
    assert client.get(f"/projects/{pid}/adjudication/{tid}", headers=HTML).status_code == 404


def test_the_settings_form_refuses_k_above_the_members_and_keeps_the_old_settings(client, scene):
    pid = scene.project_id
    token = login(client, "lead")
    form = {"csrf_token": token, "overlap_share": "0.3", "overlap_k": "9", "overlap_uncertainty_threshold": "",
            "agreement_threshold": "0.5"}
    r = client.post(f"/projects/{pid}/quality/overlap", data=form, headers=HTML)
    assert r.status_code == 422 and "overlap_k must be between 2 and the number of project members (3)" in r.text
    assert 'value="9"' in r.text  # what was typed stays in the form
    assert client.get(f"/api/v1/projects/{pid}/overlap").json()["overlap_k"] == 2
    r = client.post(f"/projects/{pid}/quality/overlap", data=form | {"overlap_k": "3"}, headers=HTML,
                    follow_redirects=False)
    assert r.status_code == 303
    assert client.get(f"/api/v1/projects/{pid}/overlap").json()["overlap_share"] == 0.3
    assert client.post(f"/projects/{pid}/quality/overlap", data=form | {"csrf_token": "x"}).status_code == 403


def test_pick_from_the_page_writes_the_adjudicated_version(client, scene):
    pid, tid = scene.project_id, scene.task_id
    token = login(client, "lead")
    url = f"/projects/{pid}/adjudication/{tid}"
    r = client.post(url, data={"csrf_token": token, "method": "merge", "class-7": str(scene.copies["bob"]),
                               "rationale": "x"}, headers=HTML)
    assert r.status_code == 422 and "no class named" in r.text  # a page, naming the field
    r = client.post(url, data={"csrf_token": token, "method": "pick", "annotation_id": str(scene.copies["alice"]),
                               "rationale": "alice follows the trace"}, headers=HTML, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith(f"?resolved={tid}")
    versions = client.get(f"/api/v1/projects/{pid}/tasks/{tid}/annotations").json()["items"]
    assert versions[-1]["version"] == 3
    queue = client.get(r.headers["location"], headers=HTML).text
    assert f'data-task-id="{tid}"' not in queue and f"Task {tid} adjudicated" in queue


def test_the_why_panel_states_the_overlap_rule(client, scene):
    login(client, "alice")
    why = client.get(f"/projects/{scene.project_id}/label/why/{scene.task_id}", headers={"HX-Request": "true"}).text
    assert 'data-testid="why-routing"' in why and "Labeled independently by 2 annotators" in why
    assert "share of tasks" in why
