"""Login throttling per user name and per client address, counted in the database."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.factories import make_user

RIGHT = {"username": "ann", "password": "password-123"}
WRONG = {"username": "ann", "password": "wrong-password"}


def from_address(client, address: str) -> TestClient:  # type: ignore[no-untyped-def]
    return TestClient(client.app, client=(address, 50000))


def test_thirty_wrong_passwords_then_the_right_one_is_refused_until_the_window_passes(backend, client, clock):
    make_user("ann")
    statuses = [client.post("/api/v1/auth/login", json=WRONG).status_code for _ in range(30)]
    assert statuses == [401] * 5 + [429] * 25
    r = client.post("/api/v1/auth/login", json=RIGHT)
    assert r.status_code == 429
    assert r.json()["detail"] == "too many failed logins for this user name; try again in 5 minutes"
    assert 290 <= int(r.headers["Retry-After"]) <= 300
    assert client.get("/api/v1/auth/me").status_code == 401
    clock.advance(200)
    r = client.post("/api/v1/auth/login", json=RIGHT)
    assert r.status_code == 429 and 90 <= int(r.headers["Retry-After"]) <= 100
    assert r.json()["detail"].endswith("try again in 2 minutes")
    clock.advance(101)  # refused attempts did not count: the window ends 5 min after the 5th failure
    assert client.post("/api/v1/auth/login", json=RIGHT).status_code == 200
    assert client.get("/api/v1/auth/me").status_code == 200


def test_the_name_counts_in_any_letter_case(client, clock):
    make_user("ann")
    for name in ("ann", "ANN", "Ann", "aNN", "anN"):
        assert client.post("/api/v1/auth/login", json={**WRONG, "username": name}).status_code == 401
    assert client.post("/api/v1/auth/login", json=RIGHT).status_code == 429


def test_an_address_that_tries_many_names_is_refused_and_others_are_not(client, clock):
    make_user("ann")
    attacker = from_address(client, "203.0.113.9")
    for i in range(20):
        assert attacker.post("/api/v1/auth/login", json={"username": f"user{i}", "password": "x"}).status_code == 401
    r = attacker.post("/api/v1/auth/login", json=RIGHT)
    assert r.status_code == 429 and "from this address" in r.json()["detail"] and "Retry-After" in r.headers
    assert from_address(client, "198.51.100.7").post("/api/v1/auth/login", json=RIGHT).status_code == 200


def test_a_success_forgets_only_its_own_address(client, clock):
    make_user("ann")
    attacker, owner = from_address(client, "203.0.113.9"), from_address(client, "198.51.100.7")
    for _ in range(4):
        assert attacker.post("/api/v1/auth/login", json=WRONG).status_code == 401
    assert owner.post("/api/v1/auth/login", json=RIGHT).status_code == 200
    assert attacker.post("/api/v1/auth/login", json=WRONG).status_code == 401  # the attacker's 5th
    assert attacker.post("/api/v1/auth/login", json=WRONG).status_code == 429
    assert owner.post("/api/v1/auth/login", json=RIGHT).status_code == 429  # the name is locked for all

    clock.advance(301)
    for _ in range(4):  # a user's own typos are forgotten once they get in
        assert owner.post("/api/v1/auth/login", json=WRONG).status_code == 401
    assert owner.post("/api/v1/auth/login", json=RIGHT).status_code == 200
    for _ in range(4):
        assert owner.post("/api/v1/auth/login", json=WRONG).status_code == 401
    assert owner.post("/api/v1/auth/login", json=RIGHT).status_code == 200


def test_server_processes_share_the_count(client, clock):
    from app.main import create_app

    make_user("ann")
    for _ in range(5):
        assert client.post("/api/v1/auth/login", json=WRONG).status_code == 401
    with TestClient(create_app()) as second_process:
        assert second_process.post("/api/v1/auth/login", json=RIGHT).status_code == 429


def test_the_login_page_says_why_and_when(client, clock):
    make_user("ann")
    for _ in range(5):
        client.post("/api/v1/auth/login", json=WRONG)
    page = client.get("/login").text
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    r = client.post("/login", data={**RIGHT, "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 429 and 1 <= int(r.headers["Retry-After"]) <= 300
    assert "Too many failed logins for this user name; try again in" in r.text
    assert 'value="ann"' in r.text
    assert client.get("/api/v1/auth/me").status_code == 401



@pytest.mark.parametrize("backend", ["postgres", "sqlite"])
def test_a_login_holds_no_database_connection_while_it_checks_the_password(client, monkeypatch, backend):
    """scrypt takes tens of ms of CPU: a burst of logins holding their connections through it exhausted the
    pool (bench/load.py saw dozens of short-lived Postgres backends). Both login routes, right and wrong
    passwords and an unknown name; the failures are still recorded and the session opened after the check."""
    from sqlalchemy import func, select

    from app.auth import service
    from app.auth.models import LoginFailure
    from app.db import get_engine, session_scope

    make_user("ann")
    held: list[int] = []
    real = service.verify_password

    def watched(password: str, hashed: str) -> bool:
        held.append(get_engine().pool.checkedout())
        return real(password, hashed)

    monkeypatch.setattr(service, "verify_password", watched)
    assert client.post("/api/v1/auth/login", json=WRONG).status_code == 401
    assert client.post("/api/v1/auth/login", json={**WRONG, "username": "nobody"}).status_code == 401
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(LoginFailure)) == 2
    assert client.post("/api/v1/auth/login", json=RIGHT).status_code == 200
    assert client.get("/api/v1/auth/me").json()["username"] == "ann"
    token = client.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
    r = client.post("/login", data={**RIGHT, "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    assert held == [0, 0, 0, 0]
