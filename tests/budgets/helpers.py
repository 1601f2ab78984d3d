"""A small project for budget tests: a lead, annotators, 16x16 images, and submits through the API."""

from __future__ import annotations

import numpy as np

from tests.factories import login, make_project, make_user, png_bytes
from tests.scenes import add_items


def budget_project(client, n_items: int = 6, annotators: tuple[str, ...] = ("ann",)) -> int:  # type: ignore[no-untyped-def]
    make_user("lead", "lead")
    for name in annotators:
        make_user(name)
    pid = make_project(owner="lead", members=annotators, retrain_every=1000)
    add_items(pid, n_items)
    return pid


def set_budget(client, pid: int, **values) -> dict:  # type: ignore[no-untyped-def]
    token = login(client, "lead")
    r = client.put(f"/api/v1/projects/{pid}/budget", json=values, headers={"X-CSRF-Token": token})
    assert r.status_code == 200, r.text
    return r.json()


def label_one(client, pid: int, token: str, seconds: float = 60.0):  # type: ignore[no-untyped-def]
    """Ask for the next task and submit it; returns the refused response instead when the queue says no."""
    r = client.post(f"/api/v1/projects/{pid}/tasks/next", headers={"X-CSRF-Token": token})
    if r.status_code != 200:
        return r
    mask = np.zeros((16, 16), np.uint8)
    s = client.post(f"/api/v1/projects/{pid}/tasks/{r.json()['id']}/annotations", headers={"X-CSRF-Token": token},
                    files={"mask": ("m.png", png_bytes(mask), "image/png")}, data={"seconds_spent": str(seconds)})
    assert s.status_code == 201, s.text
    return s
