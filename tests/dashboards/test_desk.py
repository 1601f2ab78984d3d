"""The lead's dashboard: each chart's CSV against a hand-computed project, the page, and its access."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlalchemy import func, select

from app.db import session_scope, utcnow
from app.queue.models import Task
from tests.dashboards.desk_scene import seed_desk
from tests.factories import login, make_project, make_user
from tests.scenes import add_items


def _csv(client, pid: int, name: str) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    r = client.get(f"/projects/{pid}/dashboard/{name}.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert f'filename="project-{pid}-{name}.csv"' in r.headers["content-disposition"]
    return list(csv.DictReader(io.StringIO(r.text)))


def test_chart_csvs_match_a_hand_computed_project(client, backend):
    pid = seed_desk()
    login(client, "lead")
    eff = _csv(client, pid, "efficiency")
    assert [(r["version"], r["labels"], r["miou_fg"], r["new_random"], r["new_ranked"], r["new_unranked"])
            for r in eff] == [("1", "4", "0.3", "0", "0", "4"), ("2", "10", "0.4", "2", "4", "0"),
                              ("3", "20", "0.5", "1", "9", "0")]
    # Steps: 0.10 = 2 g_random + 4 g_ranked and 0.10 = 1 g_random + 9 g_ranked
    # -> g_ranked = 0.1 / 14 = 0.0071429, g_random = 0.1 - 9 g_ranked = 0.0357143;
    # the random share's curve from v1: 0.30 + g_random * (labels - 4).
    assert [r["random_only_curve"] for r in eff] == ["0.3", "0.5143", "0.8714"]
    api = client.get(f"/api/v1/projects/{pid}/dashboard/efficiency").json()
    assert api["summary"]["gain_per_label_random"] == 0.035714
    assert api["summary"]["gain_per_label_ranked"] == 0.007143
    assert api["summary"]["labels_random"] == 7 and api["summary"]["labels_ranked"] == 13

    # A label arriving later (served by v2's random share) is classified on the next look: v3 gains it.
    with session_scope() as session:
        from app.annotations.models import Annotation, AnnotationStatus
        from app.dashboards.models import LabelPick
        from app.modeling.models import ModelVersion, Score
        from app.queue.models import TaskStatus

        assert session.scalar(select(func.count()).select_from(LabelPick)) == 23  # classified once, kept
        v2 = session.scalars(select(ModelVersion).where(ModelVersion.version == 2)).one()
        task = session.scalars(select(Task).where(Task.project_id == pid, Task.status == TaskStatus.open)).first()
        assert task is not None
        session.add(Score(task_id=task.id, model_version_id=v2.id, value=0.1, strategy="hybrid",
                          components={"steered_random": 1.0}))
        session.add(Annotation(task_id=task.id, item_id=task.item_id, project_id=task.project_id,
                               version=1, author_id=2, mask_path="y.png",
                               status=AnnotationStatus.submitted, model_version_id=v2.id,
                               created_at=v2.created_at + timedelta(days=1)))
    assert [r["new_random"] for r in _csv(client, pid, "efficiency")] == ["0", "2", "2"]

    iou = _csv(client, pid, "iou")
    assert [(r["version"], r["iou_background"], r["iou_curve-1"], r["iou_curve-2"]) for r in iou] == [
        ("1", "0.9", "0.3", "0.2"), ("2", "0.9", "0.4", "0.3"), ("3", "0.9", "0.5", "0.4")]

    cal = _csv(client, pid, "calibration")
    assert [(r["bin_lo"], r["pixels"], r["accuracy_before"], r["accuracy_after"]) for r in cal] == [
        ("0.0", "40", "0.3", "0.36"), ("0.5", "60", "0.8", "0.84")]

    mix = {(r["pick"], r["strategy"]): (r["labels"], r["mean_fg_fraction"]) for r in _csv(client, pid, "mix")}
    assert mix == {("random", "hybrid"): ("4", ""), ("ranked", "hybrid"): ("13", "0.2"), ("unranked", "–"): ("7", "")}

    thr = _csv(client, pid, "throughput")
    today, yesterday = utcnow().date().isoformat(), (utcnow() - timedelta(days=1)).date().isoformat()
    assert [(r["day"], r["annotator"], r["labels"], r["active_seconds_per_label"]) for r in thr] == [
        (yesterday, "bob", "1", "30.0"), (today, "ann", "2", "15.0")]

    queue = _csv(client, pid, "queue")
    assert [(r["age"], r["open_tasks"]) for r in queue] == [
        ("< 1 h", "1"), ("1–24 h", "1"), ("1–7 d", "0"), ("7–30 d", "1"), ("> 30 d", "0")]
    summary = client.get(f"/api/v1/projects/{pid}/dashboard/queue").json()["summary"]
    assert summary["depth"] == 3 and summary["escalated"] == 1 and summary["oldest_age_hours"] == 240.0


def test_breaches_csv_names_the_task_and_person_and_guards_formulas(client):
    from app.alerts.models import SlaBreach

    make_user("lead", "lead")
    make_user("-cmd")  # a user name a spreadsheet would run as a formula
    pid = make_project(owner="lead", members=("-cmd",))
    add_items(pid, 1)
    with session_scope() as session:
        task = session.scalars(select(Task).where(Task.project_id == pid)).one()
        session.add(SlaBreach(project_id=pid, rule="open_age", subject=f"task:{task.id}", task_id=task.id,
                              user_id=2, detail={"age_seconds": 7200, "limit_seconds": 3600}))
        task_id = task.id
    login(client, "lead")
    rows = _csv(client, pid, "breaches")
    assert [(r["rule"], r["task_id"], r["person"], r["detail"]) for r in rows] == [
        ("open_age", str(task_id), "'-cmd", "age_seconds=7200; limit_seconds=3600")]
    page = client.get(f"/projects/{pid}/dashboard").text
    assert 'data-testid="breach-list"' in page and f"task {task_id}" in page and "-cmd" in page


def test_the_dashboard_page_and_fragments_for_leads_only(client):
    pid = seed_desk()
    login(client, "lead")
    page = client.get(f"/projects/{pid}/dashboard")
    assert page.status_code == 200
    for name in ("efficiency", "iou", "calibration", "mix", "mix_classes", "throughput", "queue", "breaches"):
        assert f'data-testid="chart-{name}"' in page.text and f"/dashboard/{name}.csv" in page.text
    assert page.text.count('class="chart" data-plot=') == 7  # every chart but the breaches (none open)
    fragment = client.get(f"/projects/{pid}/dashboard/charts/queue", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and fragment.text.lstrip().startswith("<section")
    assert client.get(f"/projects/{pid}/dashboard/nope.csv").status_code == 404
    assert client.get(f"/api/v1/projects/{pid}/dashboard/nope").status_code == 404
    login(client, "ann")
    assert client.get(f"/projects/{pid}/dashboard").status_code == 403
    assert client.get(f"/api/v1/projects/{pid}/dashboard/queue").status_code == 403
    make_user("stranger", "lead")
    login(client, "stranger")
    assert client.get(f"/projects/{pid}/dashboard").status_code == 404
    assert client.get(f"/projects/{pid}/dashboard/queue.csv").status_code == 404


def test_the_alert_form_saves_hours_and_refuses_bad_input_naming_the_field(client):
    make_user("lead", "lead")
    pid = make_project(owner="lead")
    login(client, "lead")
    page = client.get(f"/projects/{pid}/dashboard").text
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    form = {"csrf_token": token, "max_open_age_hours": "24", "max_flag_hours": "", "max_review_hours": "2",
            "throughput_floor_per_day": "30", "webhook_url": "", "drift_threshold": "0.7", "drift_boost": "on"}
    r = client.post(f"/projects/{pid}/dashboard/alerts", data=form, follow_redirects=False)
    assert r.status_code == 303
    saved = client.get(f"/api/v1/projects/{pid}/alerts/settings").json()
    assert saved == {"max_open_age_seconds": 86400, "max_flag_seconds": None, "max_review_seconds": 7200,
                     "throughput_floor_per_day": 30.0, "webhook_url": None, "drift_threshold": 0.7,
                     "drift_boost": True}
    for field, value, message in [("max_open_age_hours", "0", "max_open_age_hours:"),
                                  ("max_flag_hours", "-1", "max_flag_hours:"),
                                  ("throughput_floor_per_day", "abc", "throughput_floor_per_day:"),
                                  ("webhook_url", "http://192.168.1.5/x", "webhook_url:"),
                                  ("drift_threshold", "nan", "drift_threshold:")]:
        bad = client.post(f"/projects/{pid}/dashboard/alerts", data={**form, "max_review_hours": "5", field: value})
        assert bad.status_code == 422, (field, bad.text[:200])
        assert message in bad.text and 'data-testid="alerts-error"' in bad.text
        assert client.get(f"/api/v1/projects/{pid}/alerts/settings").json() == saved  # nothing half-applied
