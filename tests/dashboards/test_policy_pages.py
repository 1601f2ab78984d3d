"""The sampling-policy and model-versions pages, server-rendered: forms, refusals shown on the page,
history, promotion buttons and the stop advice's evidence."""

from __future__ import annotations

import json
import re

from sqlalchemy import func, select

from app.db import session_scope
from app.jobs import current_in_process_worker
from app.modeling import promotion
from app.projects.models import SamplingPolicy
from tests.factories import login, make_project, make_user
from tests.scenes import add_tiny_tasks, scored_versions

FORM = {"strategy": "hybrid", "weight_uncertainty": "1", "weight_diversity": "0.5", "weight_class_boost": "2",
        "steered_share": "0.2", "unit": "image", "task_tile": "", "retrain_trigger": "labels",
        "retrain_every": "7", "retrain_hours": "", "reason": "boost the rare curve"}


def _policy_count(pid: int) -> int:
    with session_scope() as session:
        return int(session.scalar(select(func.count()).select_from(SamplingPolicy)
                                  .where(SamplingPolicy.project_id == pid)) or 0)


def test_the_policy_form_saves_a_version_and_lists_it_with_who_and_why(client):
    make_user("lead", "lead")
    pid = make_project(owner="lead")
    csrf = login(client, "lead")
    page = client.get(f"/projects/{pid}/policy")
    assert page.status_code == 200 and 'id="policy-form"' in page.text and "v1" in page.text
    r = client.post(f"/projects/{pid}/policy", data={**FORM, "csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/projects/{pid}/policy?saved=2"
    page = client.get(r.headers["location"]).text
    assert "Saved as policy v2" in page and "boost the rare curve" in page and "lead" in page
    assert 'value="7"' in page and "every 7 labels" in page
    assert _policy_count(pid) == 2


def test_a_refused_form_shows_the_field_keeps_what_was_typed_and_saves_nothing(client):
    make_user("lead", "lead")
    pid = make_project(owner="lead")
    add_tiny_tasks(pid, 2, size=24)
    csrf = login(client, "lead")
    for change, field in (({"unit": "tiles", "task_tile": "64"}, "task_tile"),
                          ({"weight_uncertainty": "nan"}, "weight_uncertainty"),
                          ({"weight_diversity": "-1"}, "weight_diversity"),
                          ({"steered_share": "2"}, "steered_share"),
                          ({"retrain_every": "0"}, "retrain_every"),
                          ({"retrain_every": "three"}, "retrain_every"),
                          ({"reason": ""}, "reason")):
        r = client.post(f"/projects/{pid}/policy", data={**FORM, **change, "csrf_token": csrf})
        assert r.status_code == 422, (change, r.text[:300])
        error = re.search(r'id="policy-error"[^>]*>([^<]*)<', r.text)
        assert error and field in error.group(1), change
        assert 'value="boost the rare curve"' in r.text or change == {"reason": ""}  # what was typed stays
    assert "larger than the project&#39;s images (the smallest is 24x24 px)" in client.post(
        f"/projects/{pid}/policy", data={**FORM, "unit": "tiles", "task_tile": "64", "csrf_token": csrf}).text
    assert _policy_count(pid) == 1


def test_the_policy_page_is_for_leads_of_the_project(client):
    make_user("lead", "lead")
    make_user("ann")
    make_user("other", "lead")
    pid = make_project(owner="lead", members=("ann",))
    csrf = login(client, "ann")
    assert client.get(f"/projects/{pid}/policy").status_code == 403
    assert client.post(f"/projects/{pid}/policy", data={**FORM, "csrf_token": csrf}).status_code == 403
    login(client, "other")
    assert client.get(f"/projects/{pid}/policy").status_code == 404
    assert client.get(f"/projects/{pid}/models").status_code == 404
    login(client, "lead")
    assert client.post(f"/projects/{pid}/policy", data=FORM).status_code == 403  # no CSRF token
    assert _policy_count(pid) == 1


def test_the_model_versions_page_shows_figures_states_buttons_and_the_evidence(client):
    make_user("lead", "lead")
    pid = make_project(owner="lead")
    scored_versions(pid, [0.40, 0.50, 0.501, 0.502, 0.45], tasks=2, live=4, held_back=(5,))
    login(client, "lead")
    page = client.get(f"/projects/{pid}/models").text
    rows = dict(re.findall(r'data-version="(\d+)" data-state="([^"]+)"', page))
    assert rows == {"5": "held back", "4": "live", "3": "ready", "2": "ready", "1": "ready"}
    assert 'data-testid="promote-v5"' in page and 'data-testid="rollback-v3"' in page
    assert 'data-testid="promote-v4"' not in page and 'data-testid="rollback-v4"' not in page
    assert "0.080 → 0.020 (1.40)" in page and "7.5 s" in page  # ECE before/after scaling, training time
    assert page.count(">none<") == 5  # no representation version yet
    assert "Labels have stopped paying" in page and 'id="gain-per-label"' in page
    assert "not known (no ranked queue)" in page
    evidence = json.loads(re.search(r'data-evidence="([^"]+)"', page).group(1).replace("&#34;", '"'))
    assert evidence["labels"] == [10, 20, 30, 40, 50] and evidence["miou_fg"][-1] == 0.45


def test_the_promote_button_makes_the_version_live(client):
    make_user("lead", "lead")
    pid = make_project(owner="lead")
    ids = scored_versions(pid, [0.5, 0.4], tasks=2, live=1, held_back=(2,))
    csrf = login(client, "lead")
    r = client.post(f"/projects/{pid}/models/{ids[1]}/promote", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    worker = current_in_process_worker()
    assert worker is not None and worker.wait_idle(timeout=60)  # the re-rank the promotion enqueued
    page = client.get(r.headers["location"]).text
    assert "Promoted" in page
    # the queue was re-ranked with it: the next batch's expected information is its mean BALD (0.5 and 1.0)
    assert re.search(r'id="info-per-label">0.7500<', page)
    with session_scope() as session:
        assert promotion.live_version(session=session, project_id=pid).id == ids[1]
    # the same again is refused, as a page
    r = client.post(f"/projects/{pid}/models/{ids[1]}/promote", data={"csrf_token": csrf},
                    headers={"Accept": "text/html"})
    assert r.status_code == 409 and "live already" in r.text


def test_the_overview_links_the_lead_to_both_pages(client):
    make_user("lead", "lead")
    pid = make_project(owner="lead")
    login(client, "lead")
    page = client.get(f"/projects/{pid}").text
    assert f'href="/projects/{pid}/policy"' in page and f'href="/projects/{pid}/models"' in page
    assert "sampling policy v1" in page
