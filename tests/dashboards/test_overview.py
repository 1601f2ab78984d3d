"""The project overview: model versions and the stop criterion the learning core reports."""

from __future__ import annotations

from app.db import session_scope
from app.modeling.models import ModelStatus, ModelVersion
from tests.factories import login, make_project, make_user


def _versions(pid: int, mious: list[float | None], labels_per_version: int = 10) -> None:
    with session_scope() as session:
        for i, miou in enumerate(mious, start=1):
            session.add(ModelVersion(project_id=pid, version=i, status=ModelStatus.ready,
                                     metrics={} if miou is None else {"miou_fg": miou},
                                     label_count=labels_per_version * i))
        session.add(ModelVersion(project_id=pid, version=len(mious) + 1, status=ModelStatus.failed,
                                 metrics={"miou_fg": 0.99}, error="worker died"))  # failed: not counted


def test_overview_says_keep_labeling_while_versions_improve(client):
    make_user("lead", "lead")
    pid = make_project(owner="lead")
    _versions(pid, [0.30, None, 0.36])
    login(client, "lead")
    page = client.get(f"/projects/{pid}").text
    assert 'id="stop-advice"' in page and "keep labeling" in page and "still improving" in page
    assert "0.360 (v3)" in page


def test_overview_reports_a_plateau_and_the_gain_per_label(client):
    make_user("lead", "lead")
    pid = make_project(owner="lead")
    _versions(pid, [0.30, 0.40, 0.401, 0.402, 0.403])
    login(client, "lead")
    page = client.get(f"/projects/{pid}").text
    assert "labels have stopped paying" in page
    assert "has not improved by 0.005 for 3 rounds" in page
    assert "0.400 (v2)" in page
    # (0.403 - 0.40) / (50 - 20) labels over the last 3 versions
    assert "+0.0001 mIoU per label over the last 3 versions" in page


def test_no_stop_advice_before_a_scored_version(client):
    make_user("lead", "lead")
    pid = make_project(owner="lead")
    login(client, "lead")
    assert 'id="stop-advice"' not in client.get(f"/projects/{pid}").text
