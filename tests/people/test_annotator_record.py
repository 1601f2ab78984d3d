"""An annotator's record: labels per day, active seconds per label, skips and flags, the quality sections,
and who may read it (admins; leads of a project the annotator is in, for those projects only)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.factories import login, make_project, make_user
from tests.people.conftest import add_labels, add_quality_evidence, add_skip_and_flag, user_id, worked_project

HTML = {"accept": "text/html"}


def test_record_counts_labels_per_day_seconds_skips_and_flags(client, admin):
    now = datetime.now(UTC).replace(hour=12)
    pid = worked_project(tasks=8)
    add_labels(pid, "ann", [(now, 10.0), (now, 30.0), (now, 0.0), (now - timedelta(days=2), 20.0),
                            (now - timedelta(days=40), 50.0)])
    add_skip_and_flag(pid, "ann", reason="<b>blurry</b>")
    uid = user_id("ann")
    body = client.get(f"/api/v1/users/{uid}/activity", params={"days": 7}).json()
    assert body["labels"] == 5 and body["labels_in_window"] == 4
    assert body["timed_labels"] == 4 and body["mean_seconds_per_label"] == (10 + 30 + 20 + 50) / 4
    assert body["median_seconds_per_label"] == 20.0  # the window's timed labels: 10, 30, 20
    assert body["skips"] == 1 and body["flags"] == 1 and body["open_flags"] == 1
    days = {d["day"]: d for d in body["per_day"]}
    assert len(days) == 7
    assert days[now.date().isoformat()] == {"day": now.date().isoformat(), "labels": 3, "median_seconds": 20.0}
    assert days[(now - timedelta(days=2)).date().isoformat()]["labels"] == 1
    assert sum(d["labels"] for d in body["per_day"]) == 4
    assert [(s["key"], s["has_data"], s["message"]) for s in body["sections"]] == [
        ("gold", False, "No gold tasks yet."),
        ("agreement", False, "No tasks labeled by this annotator and another yet."),
        ("review", False, "No reviews yet."),
        ("quality", False, "No quality score yet: it needs gold answers or agreement.")]
    page = client.get(f"/people/{uid}/record", params={"days": 7}).text
    assert 'id="throughput-chart"' in page and "No gold tasks yet." in page and "No reviews yet." in page
    assert "&lt;b&gt;blurry&lt;/b&gt;" in page and "<b>blurry</b>" not in page
    assert '<b data-testid="labels">5</b>' in page


def test_a_lead_reads_the_record_of_their_own_projects_only(client):
    now = datetime.now(UTC)
    make_user("root", "admin")
    pid = worked_project(annotator="ann", lead="lead", name="mine")
    make_user("lead2", "lead")
    other = make_project(name="theirs", owner="lead2", members=("ann",))
    from tests.scenes import add_tiny_tasks

    add_tiny_tasks(other, 3)
    add_labels(pid, "ann", [(now, 5.0)])
    add_labels(other, "ann", [(now, 5.0), (now, 5.0)])
    uid = user_id("ann")
    login(client, "lead")
    body = client.get(f"/api/v1/users/{uid}/activity").json()
    assert body["labels"] == 1 and [p["project"]["name"] for p in body["projects"]] == ["mine"]
    assert client.get(f"/api/v1/users/{uid}/activity", params={"project_id": other}).status_code == 404
    page = client.get(f"/people/{uid}/record").text
    assert "mine" in page and "theirs" not in page
    login(client, "root")
    assert client.get(f"/api/v1/users/{uid}/activity").json()["labels"] == 3
    assert client.get(f"/api/v1/users/{uid}/activity", params={"project_id": other}).json()["labels"] == 2


def test_annotators_and_unrelated_leads_get_404(client):
    make_user("root", "admin")
    worked_project(annotator="ann", lead="lead")
    make_user("stranger", "lead")
    make_user("ann2")
    uid = user_id("ann")
    for who in ("stranger", "ann2", "ann"):
        login(client, who)
        assert client.get(f"/api/v1/users/{uid}/activity").status_code == 404, who
        assert client.get(f"/people/{uid}/record", headers=HTML).status_code == 404, who
    login(client, "root")
    assert client.get("/api/v1/users/99999/activity").status_code == 404


def test_a_section_registered_by_another_domain_is_shown(client, admin, monkeypatch):
    from app.people import sections

    monkeypatch.setattr(sections, "SECTIONS", list(sections.SECTIONS))
    sections.register(sections.Section("gold", "Gold score", "No gold tasks yet.",
                                       lambda session, user, pids: {"gold tasks": 4, "mean IoU": "0.81"}))
    worked_project()
    uid = user_id("ann")
    body = client.get(f"/api/v1/users/{uid}/activity").json()
    assert body["sections"][0] == {"key": "gold", "title": "Gold score", "has_data": True, "message": None,
                                   "facts": {"gold tasks": 4, "mean IoU": "0.81"}}
    page = client.get(f"/people/{uid}/record").text
    assert "<dt>mean IoU</dt><dd>0.81</dd>" in page and "No gold tasks yet." not in page


def test_quality_sections_read_gold_agreement_reviews_and_the_score(client, admin):
    """Rows as the gold, agreement and review domains write them; the record sums them up for `ann`, in
    the viewer's projects only."""
    pid = worked_project(tasks=10)
    add_quality_evidence(pid)
    ann, cy = user_id("ann"), user_id("cy")
    body = client.get(f"/api/v1/users/{ann}/activity").json()
    facts = {s["key"]: s["facts"] for s in body["sections"]}
    assert all(s["has_data"] for s in body["sections"])
    assert facts["gold"] == {"gold answers scored": 2, "mean IoU with the known mask": "0.800",
                             "lowest IoU": "0.700", "submitted, not yet scored": 1}
    assert facts["agreement"] == {"tasks labeled with others": 2, "pairs compared": 2,
                                  "mean IoU with co-annotators": "0.500", "lowest with": "cy (0.300)"}
    assert facts["review"] == {"accepted": 1, "rejected": 1, "waiting for a reviewer": 1, "acceptance rate": "50%",
                               "most common errors": "wrong class (1)"}
    assert facts["quality"] == {"p": "0.61 from 4 pieces of evidence"}
    page = client.get(f"/people/{ann}/record").text
    assert "<dt>acceptance rate</dt><dd>50%</dd>" in page and "No gold tasks yet." not in page
    # cy has agreement with ann but no gold answers: that section says so.
    assert not any(s["has_data"] for s in client.get(f"/api/v1/users/{cy}/activity").json()["sections"][:1])
