from __future__ import annotations

import numpy as np
import pytest

from app.imaging import decode_png_array
from app.items.superpixels import decode_ids
from tests.factories import chart_pngs, login, make_project, make_user, png_bytes


@pytest.fixture
def setup(client):
    make_user("lead", "lead")
    make_user("ann")
    make_user("ann2")
    pid = make_project(owner="lead", members=("ann", "ann2"))
    token = login(client, "lead")
    charts = chart_pngs(3)
    r = client.post(f"/api/v1/projects/{pid}/items", headers={"X-CSRF-Token": token},
                    files=[("files", (f"c{i}.png", png, "image/png")) for i, (png, _) in enumerate(charts)])
    assert r.status_code == 201
    return pid


def next_task(client, pid, token):
    r = client.post(f"/api/v1/projects/{pid}/tasks/next", headers={"X-CSRF-Token": token})
    return r


def test_draft_round_trip_survives_a_refused_submit(client, setup):
    pid = setup
    token = login(client, "ann")
    task = next_task(client, pid, token).json()
    assert task["draft"] is None
    mask = np.full((64, 64), 255, np.uint8)
    mask[10:20, 5:30] = 1
    r = client.put(f"/api/v1/projects/{pid}/tasks/{task['id']}/draft", headers={"X-CSRF-Token": token},
                   files={"mask": ("m.png", png_bytes(mask), "image/png")},
                   data={"seconds_spent": "7.5", "client_token": "abc"})
    assert r.status_code == 200, r.text
    again = next_task(client, pid, token).json()  # a reload: the same task, with its draft
    assert again["id"] == task["id"]
    assert again["draft"]["client_token"] == "abc" and again["draft"]["seconds_spent"] == 7.5
    stored = client.get(again["draft"]["url"])
    assert np.array_equal(decode_png_array(stored.content), mask)
    # a refused submit (unknown class) keeps the draft
    bad = mask.copy()
    bad[0, 0] = 9
    r = client.post(f"/api/v1/projects/{pid}/tasks/{task['id']}/annotations", headers={"X-CSRF-Token": token},
                    files={"mask": ("m.png", png_bytes(bad), "image/png")})
    assert r.status_code == 422
    assert client.get(again["draft"]["url"]).status_code == 200
    # a good submit turns it into a label and removes the draft
    r = client.post(f"/api/v1/projects/{pid}/tasks/{task['id']}/annotations", headers={"X-CSRF-Token": token},
                    files={"mask": ("m.png", png_bytes(mask), "image/png")}, data={"client_token": "abc"})
    assert r.status_code == 201
    assert client.get(again["draft"]["url"]).status_code == 404


def test_draft_of_a_task_not_leased_to_you_is_refused(client, setup):
    pid = setup
    token = login(client, "ann")
    task = next_task(client, pid, token).json()
    token2 = login(client, "ann2")
    r = client.put(f"/api/v1/projects/{pid}/tasks/{task['id']}/draft", headers={"X-CSRF-Token": token2},
                   files={"mask": ("m.png", png_bytes(np.zeros((64, 64), np.uint8)), "image/png")})
    assert r.status_code == 409 and "not leased to you" in r.json()["detail"]


def test_skip_needs_a_reason_and_the_task_goes_to_others(client, setup):
    pid = setup
    token = login(client, "ann")
    task = next_task(client, pid, token).json()
    url = f"/api/v1/projects/{pid}/tasks/{task['id']}/skip"
    assert client.post(url, json={"reason": "  "}, headers={"X-CSRF-Token": token}).status_code == 422
    assert client.post(url, json={"reason": "too blurry"}, headers={"X-CSRF-Token": token}).status_code == 200
    seen = {next_task(client, pid, token).json()["id"]}
    assert task["id"] not in seen  # not handed back to the one who skipped it
    token2 = login(client, "ann2")
    assert next_task(client, pid, token2).json()["id"] == task["id"]  # but to others, first in line


def test_next_says_why_the_queue_is_empty(client, setup):
    pid = setup
    token = login(client, "ann")
    for _ in range(3):  # one task per chart
        task = next_task(client, pid, token).json()
        r = client.post(f"/api/v1/projects/{pid}/tasks/{task['id']}/skip", json={"reason": "unreadable"},
                        headers={"X-CSRF-Token": token})
        assert r.status_code == 200
    r = next_task(client, pid, token)
    assert r.status_code == 404
    assert r.json()["detail"].startswith("The queue is empty")
    assert "skipped by you" in r.json()["detail"]
    assert next_task(client, pid, login(client, "ann2")).status_code == 200  # others still get them


def test_flag_moves_the_task_to_the_escalation_queue_and_back(client, setup):
    pid = setup
    token = login(client, "ann")
    task = next_task(client, pid, token).json()
    r = client.post(f"/api/v1/projects/{pid}/tasks/{task['id']}/flag", json={"note": "curves <b>overlap</b>"},
                    headers={"X-CSRF-Token": token})
    assert r.status_code == 200
    queue = client.get(f"/api/v1/projects/{pid}/queue").json()["items"]
    assert task["id"] not in [t["task_id"] for t in queue]
    assert client.get(f"/projects/{pid}/escalations").status_code == 403  # annotators do not adjudicate
    lead_token = login(client, "lead")
    page = client.get(f"/projects/{pid}/escalations").text
    assert f'data-task-id="{task["id"]}"' in page and "curves &lt;b&gt;overlap&lt;/b&gt;" in page
    flag_id = int(page.split(f"/projects/{pid}/escalations/")[1].split("/")[0])
    r = client.post(f"/projects/{pid}/escalations/{flag_id}/resolve", data={"resolution": "label curve-1 on top"},
                    headers={"X-CSRF-Token": lead_token, "HX-Request": "true"})
    assert r.status_code == 200 and "back in the queue" in r.text
    queue = client.get(f"/api/v1/projects/{pid}/queue").json()["items"]
    assert task["id"] in [t["task_id"] for t in queue]


def test_superpixels_cover_the_image_with_many_segments(client, setup):
    pid = setup
    token = login(client, "ann")
    task = next_task(client, pid, token).json()
    r = client.get(task["superpixels_url"])
    ids = decode_ids(decode_png_array(r.content))
    assert ids.shape == (64, 64) and len(np.unique(ids)) > 20


def test_budget_shows_in_the_header_strip(client, setup):
    pid = setup
    token = login(client, "lead")
    r = client.patch(f"/api/v1/projects/{pid}", json={"label_budget": 500}, headers={"X-CSRF-Token": token})
    assert r.status_code == 200 and r.json()["label_budget"] == 500
    assert "of 500 left in the budget" in client.get(f"/projects/{pid}/label/stats").text
    r = client.patch(f"/api/v1/projects/{pid}", json={"label_budget": -1}, headers={"X-CSRF-Token": token})
    assert r.status_code == 422


def test_header_strip_counts_read_as_words(client, setup):
    import re

    pid = setup

    def strip() -> str:
        return re.sub(r"<[^>]+>", "", client.get(f"/projects/{pid}/label/stats").text)

    queue = len(client.get(f"/api/v1/projects/{pid}/queue").json()["items"])
    assert queue == 3 and "3 tasks open" in strip()
    assert "0 labels today" in strip() and "0 labels in the project" in strip()
    token = login(client, "ann")
    for expected in (("1 label today", "1 label in the project", "2 tasks open"),
                     ("2 labels today", "2 labels in the project", "1 task open")):
        task = next_task(client, pid, token).json()
        r = client.post(f"/api/v1/projects/{pid}/tasks/{task['id']}/annotations", headers={"X-CSRF-Token": token},
                        files={"mask": ("m.png", png_bytes(np.zeros((64, 64), np.uint8)), "image/png")})
        assert r.status_code == 201, r.text
        assert all(words in strip() for words in expected), strip()
