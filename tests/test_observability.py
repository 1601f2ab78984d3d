"""/healthz, /readyz, /metrics, request ids, the offline API docs and error pages for browsers."""

from __future__ import annotations

import pytest

from tests.factories import login, make_project, make_user


def test_health_and_ready(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json()["checks"] == {"database": "ok"}


def test_ready_is_503_when_the_database_is_down(client, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from app import observability

    class Down:
        def __enter__(self):  # type: ignore[no-untyped-def]
            raise OperationalError("SELECT 1", {}, Exception("connection refused"))

        def __exit__(self, *exc):  # type: ignore[no-untyped-def]
            return False

    monkeypatch.setattr(observability, "session_scope", lambda: Down())
    r = client.get("/readyz")
    assert r.status_code == 503 and r.json()["status"] == "not ready"
    assert r.json()["checks"]["database"].startswith("unreachable") and r.headers["Retry-After"]


def test_ready_checks_the_broker_when_one_is_configured(client, monkeypatch):
    from app.config import get_settings

    monkeypatch.setenv("LABELWISE_BROKER_URL", "redis://127.0.0.1:1/0")  # nothing listens there
    get_settings.cache_clear()
    r = client.get("/readyz")
    assert r.status_code == 503 and r.json()["checks"]["broker"].startswith("unreachable")


def test_metrics_expose_the_named_series(client):
    make_user("lead", "lead")
    pid = make_project(owner="lead")
    token = login(client, "lead")
    from tests.factories import chart_pngs

    files = [("files", (f"c{i}.png", png, "image/png")) for i, (png, _) in enumerate(chart_pngs(3))]
    r = client.post(f"/api/v1/projects/{pid}/items", headers={"X-CSRF-Token": token}, files=files)
    assert r.status_code == 201, r.text
    client.post(f"/api/v1/projects/{pid}/tasks/next", headers={"X-CSRF-Token": token})
    text = client.get("/metrics").text
    assert f'labelwise_queue_depth{{project="{pid}"}} 3.0' in text
    assert f'labelwise_active_leases{{project="{pid}"}} 1.0' in text
    assert f'labelwise_queue_oldest_open_task_seconds{{project="{pid}"}}' in text
    for series in ("labelwise_labels_last_minute", "labelwise_training_seconds", "labelwise_scoring_seconds",
                   "labelwise_jobs", "labelwise_http_request_seconds_bucket"):
        assert series in text, series
    assert 'route="/api/v1/projects/{project_id}/tasks/next"' in text


def test_every_response_carries_a_request_id(client):
    assert len(client.get("/healthz").headers["X-Request-ID"]) == 32
    assert client.get("/healthz", headers={"X-Request-ID": "abc-1"}).headers["X-Request-ID"] == "abc-1"


def test_json_logs_carry_the_request_id():
    import json
    import logging

    from app.observability import JsonFormatter, request_id

    token = request_id.set("rid-7")
    try:
        line = JsonFormatter().format(logging.LogRecord("app.x", logging.WARNING, __file__, 1, "a %s", ("b",), None))
    finally:
        request_id.reset(token)
    entry = json.loads(line)
    assert entry["message"] == "a b" and entry["request_id"] == "rid-7" and entry["level"] == "WARNING"


def test_api_docs_are_served_from_here(client):
    r = client.get("/docs")
    assert r.status_code == 200
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in r.text and "http" not in r.text.split("<body")[0]
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
    assert client.get("/openapi.json").json()["info"]["title"] == "Labelwise"


@pytest.mark.parametrize("path", ["/projects/999", "/no/such/page"])
def test_a_browser_gets_an_error_page_and_the_api_keeps_json(client, path):
    make_user("ann")
    login(client, "ann")
    page = client.get(path, headers={"Accept": "text/html"})
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert 'data-testid="error-page"' in page.text and "Back to your projects" in page.text
    api = client.get("/api/v1/projects/999")
    assert api.status_code == 404 and api.json() == {"detail": "project not found"}


def test_an_unexpected_error_is_a_page_or_json_with_a_message_never_a_bare_500(env, monkeypatch):
    from fastapi.testclient import TestClient

    from app.dashboards import overview
    from app.main import create_app

    make_user("lead", "lead")
    pid = make_project(owner="lead")

    def boom(**_kw):  # type: ignore[no-untyped-def]
        raise RuntimeError("a bug")

    monkeypatch.setattr(overview.model_service, "list_versions", boom)
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        login(client, "lead")
        page = client.get(f"/projects/{pid}", headers={"Accept": "text/html"})
        assert page.status_code == 500 and "Something went wrong" in page.text and "was logged" in page.text
        api = client.get(f"/api/v1/projects/{pid}/models")
        assert api.status_code == 500 and "was logged" in api.json()["detail"]
