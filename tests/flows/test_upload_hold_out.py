"""Uploads hold out the project's validation share: the split keeps its share as the pool grows, drawn by a
hash of each image (computed here by hand), never ranked by the queue, and counted on the validation page."""

from __future__ import annotations

import io
import zipfile

import numpy as np

from app.flows.validation import upload_rank
from tests.factories import login, make_project, make_user, png_bytes


def csrf(token: str) -> dict[str, str]:
    return {"X-CSRF-Token": token}


def images(n: int, seed: int) -> list[tuple[str, bytes]]:
    rng = np.random.default_rng(seed)
    return [(f"{seed}-{i}.png", png_bytes(rng.integers(0, 255, (8, 8, 3), dtype=np.uint8))) for i in range(n)]


def upload(client, pid, files, token):
    r = client.post(f"/api/v1/projects/{pid}/items", headers=csrf(token),
                    files=[("files", (name, data, "image/png")) for name, data in files])
    assert r.status_code == 201, r.text
    return r.json()["items"]


def lowest(pid, items, n):
    return sorted(i["id"] for i in sorted(items, key=lambda i: upload_rank(pid, i["checksum"]))[:n])


def held_out(client, pid):
    rows = client.get(f"/api/v1/projects/{pid}/validation/items").json()["items"]
    return sorted(r["id"] for r in rows if r["split"] == "validation"), rows


def test_each_upload_tops_the_validation_split_up_to_the_share(client):
    make_user("lead", "lead")
    pid = make_project(owner="lead")
    token = login(client, "lead")
    assert client.patch(f"/api/v1/projects/{pid}", json={"validation_share": 0.25},
                        headers=csrf(token)).status_code == 200
    first = upload(client, pid, images(8, seed=1), token)  # 8 images: round(0.25 x 8) = 2 held out
    assert held_out(client, pid)[0] == lowest(pid, first, 2)
    assert [i["split"] for i in first].count("validation") == 2  # the upload's answer says so too

    # 4 more: round(0.25 x 12) = 3, so one of the new ones (the lowest hash), the older ones stay
    second = upload(client, pid, images(4, seed=2), token)
    validation, rows = held_out(client, pid)
    assert validation == sorted(lowest(pid, first, 2) + lowest(pid, second, 1))
    assert all(r["held_out_on_upload"] == (r["split"] == "validation") for r in rows)

    # a zip import goes the same way: 4 more, round(0.25 x 16) = 4
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        for name, data in images(4, seed=3):
            z.writestr(f"images/{name}", data)
    r = client.post(f"/api/v1/projects/{pid}/import/zip", headers=csrf(token),
                    files={"file": ("batch.zip", archive.getvalue(), "application/zip")})
    assert r.status_code == 201, r.text
    assert len(held_out(client, pid)[0]) == 4
    assert [i["split"] for i in r.json()["items"]].count("validation") == 1

    # the queue never ranks or hands out validation images
    queued = {t["item_id"] for t in client.get(f"/api/v1/projects/{pid}/queue?limit=100").json()["items"]}
    assert queued and not queued & set(held_out(client, pid)[0])

    # the page counts them; a pick moves one out and it no longer counts as an upload's
    page = client.get(f"/projects/{pid}/settings/validation")
    assert 'data-testid="from-uploads">4<' in page.text
    moved = client.post(f"/api/v1/projects/{pid}/validation/pick", headers=csrf(token),
                        json={"item_ids": held_out(client, pid)[0][:1], "split": "pool"})
    assert moved.status_code == 200 and moved.json() == {"moved": 1}
    assert 'data-testid="from-uploads">3<' in client.get(f"/projects/{pid}/settings/validation").text


def test_share_zero_holds_nothing_out_and_one_is_refused_naming_the_field(client):
    make_user("lead", "lead")
    pid = make_project(owner="lead")
    token = login(client, "lead")
    for body in ({"validation_share": 1.0}, {"validation_share": -0.1}):
        r = client.patch(f"/api/v1/projects/{pid}", json=body, headers=csrf(token))
        assert r.status_code == 422 and "validation_share" in r.text
    r = client.post(f"/projects/{pid}/settings/validation/redraw",
                    data={"csrf_token": token, "validation_share": "1"})
    assert r.status_code == 422 and "validation_share must be between 0 and 1 (0 included, 1 not" in r.text
    assert client.patch(f"/api/v1/projects/{pid}", json={"validation_share": 0.0},
                        headers=csrf(token)).status_code == 200
    upload(client, pid, images(10, seed=4), token)
    assert held_out(client, pid)[0] == []
