"""Sampling policy versions: each change is a new version with who, when and why; bad input is refused
naming the field, and nothing is half-applied."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import func, select

from app.db import session_scope
from app.projects import policy
from app.projects.models import Project, SamplingPolicy
from tests.factories import login, make_project, make_user
from tests.scenes import add_tiny_tasks


def test_the_default_weights_are_the_learning_cores():
    from app.learning.acquisition import DEFAULT_HYBRID_WEIGHTS

    assert policy.DEFAULT_WEIGHTS == DEFAULT_HYBRID_WEIGHTS


def test_a_new_project_starts_at_version_1_and_a_change_adds_a_version_with_who_and_why(client):
    make_user("lead", "lead")
    pid = make_project(owner="lead", retrain_every=5)
    csrf = login(client, "lead")
    r = client.get(f"/api/v1/projects/{pid}/policy")
    assert r.status_code == 200 and r.json()["version"] == 1 and r.json()["retrain_every"] == 5
    assert r.json()["weight_uncertainty"] == 1.0 and r.json()["retrain_trigger"] == "labels"
    r = client.post(f"/api/v1/projects/{pid}/policy", headers={"X-CSRF-Token": csrf},
                    json={"reason": "rare classes are missing", "weight_class_boost": 2.5, "steered_share": 0.2,
                          "retrain_trigger": "both", "retrain_hours": 12})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["version"] == 2 and body["weight_class_boost"] == 2.5 and body["weight_uncertainty"] == 1.0
    assert body["reason"] == "rare classes are missing" and body["author_id"] is not None
    versions = client.get(f"/api/v1/projects/{pid}/policy/versions").json()["items"]
    assert [v["version"] for v in versions] == [2, 1]
    with session_scope() as session:
        project = session.get(Project, pid)
        assert project.steered_share == 0.2  # mirrored on the project row the queue reads
        from app.audit.models import AuditLog

        entry = session.scalar(select(AuditLog).where(AuditLog.action == "policy.change").order_by(AuditLog.id.desc()))
        assert entry.detail["version"] == 2 and entry.detail["after"]["weight_class_boost"] == 2.5
        assert entry.detail["before"]["weight_class_boost"] == 0.5


@pytest.mark.parametrize(("change", "field"), [
    ({"weight_class_boost": -0.1}, "weight_class_boost"),
    ({"steered_share": 1.5}, "steered_share"),
    ({"steered_share": -0.01}, "steered_share"),
    ({"task_tile": 32}, "task_tile"),  # the images are 24 px
    ({"task_tile": 8}, "task_tile"),
    ({"retrain_every": 0}, "retrain_every"),
    ({"retrain_every": -3}, "retrain_every"),
    ({"retrain_trigger": "schedule"}, "retrain_hours"),  # a schedule needs its interval
    ({"retrain_trigger": "schedule", "retrain_hours": -1}, "retrain_hours"),
    ({"retrain_trigger": "sometimes"}, "retrain_trigger"),
    ({"strategy": "vibes"}, "strategy"),
    ({"reason": "  "}, "reason"),
])
def test_bad_input_is_refused_naming_the_field_and_nothing_is_applied(client, change, field):
    make_user("lead", "lead")
    pid = make_project(owner="lead")
    add_tiny_tasks(pid, 2, size=24)
    csrf = login(client, "lead")
    r = client.post(f"/api/v1/projects/{pid}/policy", headers={"X-CSRF-Token": csrf},
                    json={"reason": "try it", "steered_share": 0.3, **change})
    assert r.status_code == 422, r.text
    assert field in str(r.json()["detail"])
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(SamplingPolicy)
                              .where(SamplingPolicy.project_id == pid)) == 1
        assert session.get(Project, pid).steered_share == 0.1  # the valid part was not applied either


@pytest.mark.parametrize("field", ["weight_uncertainty", "weight_diversity", "weight_class_boost", "steered_share",
                                   "retrain_hours"])
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_weights_that_are_not_finite_are_refused_naming_the_field(env, field, value):
    from app.auth.models import User
    from app.projects.service import ProjectError

    make_user("lead", "lead")
    pid = make_project(owner="lead")
    with session_scope() as session:
        project = session.get(Project, pid)
        with pytest.raises(ProjectError, match=field):
            policy.change(session=session, project=project, user=session.get(User, project.created_by_id),
                          reason="x", retrain_trigger="both", **{"retrain_hours": 2.0, field: value})
        assert len(policy.history(session=session, project_id=pid)) == 1


def test_nan_in_a_json_body_is_refused_before_the_route(client):
    make_user("lead", "lead")
    pid = make_project(owner="lead")
    csrf = login(client, "lead")
    headers = {"X-CSRF-Token": csrf, "Content-Type": "application/json"}
    r = client.post(f"/api/v1/projects/{pid}/policy", headers=headers,
                    content='{"reason": "x", "weight_uncertainty": NaN}')
    assert r.status_code == 422 and "NaN" in r.text


def test_a_tile_that_fits_the_images_is_taken(client):
    make_user("lead", "lead")
    pid = make_project(owner="lead")
    add_tiny_tasks(pid, 2, size=24)
    csrf = login(client, "lead")
    r = client.post(f"/api/v1/projects/{pid}/policy", headers={"X-CSRF-Token": csrf},
                    json={"reason": "tiles", "task_tile": 16})
    assert r.status_code == 201 and r.json()["task_tile"] == 16
    r = client.post(f"/api/v1/projects/{pid}/policy", headers={"X-CSRF-Token": csrf},
                    json={"reason": "whole images again", "task_tile": 0})
    assert r.status_code == 201 and r.json()["task_tile"] is None


def test_only_leads_change_the_policy_and_non_members_do_not_see_it(client):
    make_user("lead", "lead")
    make_user("ann")
    make_user("other", "lead")
    pid = make_project(owner="lead", members=("ann",))
    csrf = login(client, "ann")
    assert client.post(f"/api/v1/projects/{pid}/policy", headers={"X-CSRF-Token": csrf},
                       json={"reason": "x", "steered_share": 0.5}).status_code == 403
    csrf = login(client, "other")
    assert client.get(f"/api/v1/projects/{pid}/policy").status_code == 404
    assert client.post(f"/api/v1/projects/{pid}/policy", headers={"X-CSRF-Token": csrf},
                       json={"reason": "x"}).status_code == 404
    login(client, "lead")
    assert client.post(f"/api/v1/projects/{pid}/policy", json={"reason": "x"}).status_code == 403  # no CSRF token


def test_the_project_settings_patch_is_versioned_too(client):
    make_user("lead", "lead")
    pid = make_project(owner="lead")
    csrf = login(client, "lead")
    r = client.patch(f"/api/v1/projects/{pid}", headers={"X-CSRF-Token": csrf}, json={"strategy": "entropy"})
    assert r.status_code == 200
    current = client.get(f"/api/v1/projects/{pid}/policy").json()
    assert current["version"] == 2 and current["strategy"] == "entropy"
    assert "settings API" in current["reason"]
