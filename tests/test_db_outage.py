"""The database unreachable: API calls answer 503 with a message and Retry-After, and once it is back the
same calls succeed without restarting the app (the pool's pre-ping replaces the dead connections)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.factories import login, make_project, make_user
from tests.scenes import add_tiny_tasks
from tests.tcp_proxy import TcpProxy


@pytest.mark.parametrize("backend", ["postgres"])
@pytest.mark.parametrize("cut", ["refused", "reset"])
def test_database_unreachable_is_503_then_recovers(env, backend, cut, monkeypatch):
    import os

    from fastapi.testclient import TestClient

    from app.config import get_settings
    from app.db import reset_engine
    from app.main import create_app

    make_user("lead", "lead")
    make_user("ann")
    pid = make_project(owner="lead", members=("ann",))
    add_tiny_tasks(pid, 5)

    url = os.environ["LABELWISE_DATABASE_URL"]
    target = urlsplit(url)
    proxy = TcpProxy(target_port=target.port or 5432)
    monkeypatch.setenv("LABELWISE_DATABASE_URL", url.replace(f":{target.port}/", f":{proxy.port}/", 1))
    get_settings.cache_clear()
    reset_engine()
    try:
        with TestClient(create_app()) as client:
            client.headers["X-CSRF-Token"] = login(client, "ann")
            calls = [("GET", "/api/v1/auth/me"), ("GET", f"/api/v1/projects/{pid}/queue"),
                     ("POST", f"/api/v1/projects/{pid}/tasks/next")]
            assert [client.request(m, u).status_code for m, u in calls] == [200, 200, 200]

            proxy.cut(cut)
            for _ in range(2):  # the first call meets dead pooled connections, the second a refused connect
                for method, path in calls:
                    r = client.request(method, path)
                    assert r.status_code == 503, (path, r.status_code, r.text)
                    assert r.headers["Retry-After"] == "1"
                    assert "cannot be reached" in r.json()["detail"]

            proxy.restore()
            responses = [client.request(m, u) for m, u in calls]
            assert [r.status_code for r in responses] == [200, 200, 200], [r.text for r in responses]
            assert responses[2].json()["status"] == "open"  # the task this annotator already held
    finally:
        proxy.close()
        reset_engine()
