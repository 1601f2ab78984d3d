"""A clock the session and throttling code read instead of the wall clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    for module in ("app.auth.sessions", "app.auth.throttle"):
        monkeypatch.setattr(f"{module}.utcnow", c)
    return c
