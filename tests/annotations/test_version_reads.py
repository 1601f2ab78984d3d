"""Who reads a task's label versions: reviewers and leads everyone's; an annotator only their own, so overlap
copies stay independent and a gold task's known mask cannot be looked up through the task it came from."""

from __future__ import annotations

import numpy as np

from tests.factories import login, make_project, make_user, png_bytes
from tests.scenes import add_items, lease


def test_an_annotator_reads_only_their_own_versions_and_masks(client):
    make_user("lead", "lead")
    make_user("a")
    make_user("b")
    pid = make_project(owner="lead", members=("a", "b"))
    add_items(pid, 1)
    tid = lease(pid, "a")
    base = f"/api/v1/projects/{pid}/tasks/{tid}/annotations"
    csrf = login(client, "a")
    r = client.post(base, headers={"X-CSRF-Token": csrf}, data={"client_token": "k1"},
                    files={"mask": ("m.png", png_bytes(np.zeros((16, 16), np.uint8)))})
    assert r.status_code in (200, 201), r.text
    aid = r.json()["id"]
    assert [v["id"] for v in client.get(base).json()["items"]] == [aid]
    assert client.get(f"{base}/{aid}/mask").status_code == 200

    login(client, "b")
    assert client.get(base).json()["items"] == []
    assert client.get(f"{base}/{aid}/mask").status_code == 404

    login(client, "lead")
    assert [v["id"] for v in client.get(base).json()["items"]] == [aid]
    assert client.get(f"{base}/{aid}/mask").status_code == 200
