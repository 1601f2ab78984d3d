"""Budget caps stop the queue, say which cap and when it resets, and bad budgets are refused whole."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.db import utcnow
from tests.budgets.helpers import budget_project, label_one, set_budget
from tests.factories import login


def tomorrow_midnight() -> str:
    return (utcnow() + timedelta(days=1)).strftime("%Y-%m-%d") + " 00:00 UTC"


def test_a_daily_cap_stops_the_queue_and_says_so_in_the_api_and_on_the_page(client):
    pid = budget_project(client)
    set_budget(client, pid, day_labels=2)
    token = login(client, "ann")
    assert label_one(client, pid, token).status_code == 201
    # A leased task counts against the cap: with one labeled and one leased, the cap of 2 is spent.
    r = client.post(f"/api/v1/projects/{pid}/tasks/next", headers={"X-CSRF-Token": token})
    assert r.status_code == 200
    held = r.json()["id"]
    again = client.post(f"/api/v1/projects/{pid}/tasks/next", headers={"X-CSRF-Token": token})
    assert again.status_code == 200 and again.json()["id"] == held  # the held task comes back, never a third
    client.post(f"/api/v1/projects/{pid}/tasks/{held}/release", headers={"X-CSRF-Token": token})
    assert label_one(client, pid, token).status_code == 201
    refused = label_one(client, pid, token)
    assert refused.status_code == 409
    body = refused.json()
    assert body["code"] == "budget_cap"
    assert "daily cap of 2 labels is reached" in body["detail"] and tomorrow_midnight() in body["detail"]
    page = client.get(f"/projects/{pid}/label")
    assert "daily cap of 2 labels is reached" in page.text and tomorrow_midnight() in page.text
    # A lead raising the cap opens the queue again.
    set_budget(client, pid, day_labels=3)
    token = login(client, "ann")
    assert label_one(client, pid, token).status_code == 201


def test_a_weekly_cap_in_hours_counts_the_measured_seconds(client):
    pid = budget_project(client)
    set_budget(client, pid, week_hours=0.05)  # 180 s
    token = login(client, "ann")
    assert label_one(client, pid, token, seconds=100).status_code == 201
    assert label_one(client, pid, token, seconds=100).status_code == 201
    refused = label_one(client, pid, token)
    assert refused.status_code == 409 and "weekly cap of 0.05 hours is reached" in refused.json()["detail"]
    assert "resets at" in refused.json()["detail"]


def test_the_per_annotator_daily_cap_stops_only_that_annotator(client):
    pid = budget_project(client, annotators=("ann", "ann2"))
    set_budget(client, pid, annotator_day_labels=1)
    token = login(client, "ann")
    assert label_one(client, pid, token).status_code == 201
    refused = label_one(client, pid, token)
    assert refused.status_code == 409
    assert refused.json()["detail"].startswith("Your daily cap of 1 label is reached")
    assert tomorrow_midnight() in refused.json()["detail"]
    assert "Your daily cap of 1 label" in client.get(f"/projects/{pid}/label").text
    token = login(client, "ann2")
    assert label_one(client, pid, token).status_code == 201
    caps = client.get(f"/api/v1/projects/{pid}/budget").json()["caps"]
    assert [(c["name"], c["used"], c["reached"]) for c in caps] == [("your daily", 1.0, True)]


@pytest.mark.parametrize(("values", "field"), [
    ({"day_labels": 0}, "day_labels"),
    ({"week_labels": -5}, "week_labels"),
    ({"label_budget": 0}, "label_budget"),
    ({"total_hours": -1.5}, "total_hours"),
    ({"day_hours": 0}, "day_hours"),
    ({"annotator_day_labels": 2.5}, "annotator_day_labels"),
    ({"plan_start": "2026-12-10", "plan_end": "2026-12-01"}, "plan_end"),
])
def test_a_bad_budget_is_refused_naming_the_field_and_nothing_is_half_applied(client, values, field):
    pid = budget_project(client)
    set_budget(client, pid, day_labels=7, label_budget=100)
    token = login(client, "lead")
    r = client.put(f"/api/v1/projects/{pid}/budget", json={"week_labels": 50, **values},
                   headers={"X-CSRF-Token": token})
    assert r.status_code == 422 and field in str(r.json()["detail"]), r.text
    now = client.get(f"/api/v1/projects/{pid}/budget").json()
    assert (now["day_labels"], now["week_labels"], now["label_budget"]) == (7, None, 100)


def test_only_a_project_lead_sets_the_budget(client):
    pid = budget_project(client)
    token = login(client, "ann")
    r = client.put(f"/api/v1/projects/{pid}/budget", json={"day_labels": 5}, headers={"X-CSRF-Token": token})
    assert r.status_code == 403


def test_a_total_in_hours_never_resets_and_leases_count_at_the_mean_time_per_label(client):
    pid = budget_project(client, annotators=("ann", "ann2"))
    set_budget(client, pid, total_hours=0.1, annotator_day_hours=1)  # 360 s in all
    token = login(client, "ann")
    assert label_one(client, pid, token, seconds=200).status_code == 201
    # ann2 holds a task: at the measured 200 s a label, 200 + 200 s >= 360 s, so ann is refused.
    token2 = login(client, "ann2")
    assert client.post(f"/api/v1/projects/{pid}/tasks/next", headers={"X-CSRF-Token": token2}).status_code == 200
    token = login(client, "ann")
    refused = client.post(f"/api/v1/projects/{pid}/tasks/next", headers={"X-CSRF-Token": token})
    assert refused.status_code == 409
    assert "The project's total cap of 0.1 hours is reached (0.11 hours" in refused.json()["detail"]
    assert refused.json()["detail"].endswith("A lead can raise it.")
    caps = {c["field"]: c for c in client.get(f"/api/v1/projects/{pid}/budget").json()["caps"]}
    assert caps["annotator_day_hours"]["used"] == 200 / 3600 and not caps["annotator_day_hours"]["reached"]
    assert caps["total_hours"]["resets_at"] is None and caps["total_hours"]["reached"]
