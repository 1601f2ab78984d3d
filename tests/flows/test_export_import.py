"""Export and import through the API and the flows: formats, options, bad input, all or nothing."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
from PIL import Image

from tests.factories import chart_pngs, login, make_project, make_user, png_bytes


@pytest.fixture
def project(client):
    make_user("lead", "lead")
    make_user("ann")
    return make_project(owner="lead", members=("ann",))


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


def _import_zip(client, pid, token, data: bytes):
    return client.post(f"/api/v1/projects/{pid}/import/zip", headers={"X-CSRF-Token": token},
                       files={"file": ("batch.zip", data, "application/zip")})


def _items(client, pid) -> int:
    return len(client.get(f"/api/v1/projects/{pid}/items").json()["items"])


def _charts(n: int = 2) -> tuple[dict[str, bytes], list[np.ndarray]]:
    files, masks = {}, []
    for i, (data, mask) in enumerate(chart_pngs(n, size=40, seed=5)):
        files[f"images/c{i}.png"] = data
        files[f"masks/c{i}.png"] = png_bytes(mask.astype(np.uint8))
        masks.append(mask)
    return files, masks


def test_zip_import_with_masks_then_export_every_format(client, project):
    token = login(client, "lead")
    files, masks = _charts()
    r = _import_zip(client, project, token, _zip(files))
    assert r.status_code == 201, r.text
    assert r.json()["kind"] == "images+masks" and r.json()["annotations"] == 2 and len(r.json()["items"]) == 2
    for fmt, marker in (("coco", "annotations.json"), ("png", "classes.json"), ("labelstudio", "tasks.json")):
        r = client.get(f"/api/v1/projects/{project}/export", params={"format": fmt})
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/zip"
        assert marker in zipfile.ZipFile(io.BytesIO(r.content)).namelist()
    # The COCO export, imported into a second project through the COCO route, gives the same masks.
    make_project("second", owner="lead")
    coco = zipfile.ZipFile(io.BytesIO(client.get(f"/api/v1/projects/{project}/export",
                                                 params={"format": "coco"}).content))
    images = [n for n in coco.namelist() if n.startswith("images/")]
    pid2 = project + 1
    r = client.post(f"/api/v1/projects/{pid2}/import/coco", headers={"X-CSRF-Token": token},
                    files=[("annotations", ("a.json", coco.read("annotations.json"), "application/json"))]
                    + [("files", (n.split("/")[-1], coco.read(n), "image/png")) for n in images])
    assert r.status_code == 201, r.text
    assert r.json()["kind"] == "coco" and r.json()["annotations"] == 2
    png = zipfile.ZipFile(io.BytesIO(client.get(f"/api/v1/projects/{pid2}/export", params={"format": "png"}).content))
    got = sorted(np.asarray(Image.open(io.BytesIO(png.read(n)))).tobytes() for n in png.namelist()
                 if n.startswith("masks/"))
    assert got == sorted(m.astype(np.uint8).tobytes() for m in masks)


@pytest.mark.parametrize("params, message", [
    ({"format": "yolo"}, "unknown export format 'yolo'"),
    ({"format": "coco", "version": "reviewed"}, "does not exist yet"),
    ({"format": "coco", "version": "adjudicated"}, "what exists: latest"),
    ({"format": "coco", "split": "test"}, "unknown split"),
    ({"format": "coco"}, "no submitted annotations"),
])
def test_bad_export_requests_say_why(client, project, params, message):
    login(client, "lead")
    r = client.get(f"/api/v1/projects/{project}/export", params=params)
    assert r.status_code == 422 and message in r.json()["detail"]


def test_export_and_import_need_a_lead_and_csrf(client, project):
    token = login(client, "ann")
    assert client.get(f"/api/v1/projects/{project}/export", params={"format": "coco"}).status_code == 403
    files, _ = _charts(1)
    assert _import_zip(client, project, token, _zip(files)).status_code == 403
    token = login(client, "lead")
    r = client.post(f"/api/v1/projects/{project}/import/zip", files={"file": ("b.zip", _zip(files), "x")})
    assert r.status_code == 403 and "CSRF" in r.json()["detail"]


@pytest.mark.parametrize("files, message", [
    ({"images/a.png": b"PNG", "notes.txt": b"hello"}, "not an image"),
    ({"../evil.png": b"x"}, "outside the archive"),
    ({"images/c9.png": None, "masks/zz.png": None}, "has no image of the same name"),
    ({"images/c9.png": None, "a.json": b"{not json"}, "not valid JSON"),
    ({"images/c9.png": None, "a.json": b'{"images": [], "annotations": [], "categories": [{"id": 1, "name": "cat"}]}'},
     "not listed"),
    ({"images/c9.png": None, "a.json": json.dumps([{"data": {"image": "c9.png"}, "annotations": [{"result": [
        {"type": "brushlabels", "original_width": 40, "original_height": 40,
         "value": {"format": "rle", "rle": [1, 2, 3], "brushlabels": ["curve-1"]}}]}]}]).encode()},
     "unreadable brushlabels"),
    ({"images/c9.png": None, "a.json": json.dumps([{"data": {"image": "c9.png"}, "annotations": [{"result": [
        {"type": "polygonlabels", "original_width": 40, "original_height": 40,
         "value": {"points": [[1, 1], [5, 1], [5, 5]], "polygonlabels": ["dog"]}}]}]}]).encode()},
     "'dog'"),
])
def test_bad_zips_are_refused_whole_and_store_nothing(client, project, env, files, message):
    token = login(client, "lead")
    good, _ = _charts(1)
    image = good["images/c0.png"]
    files = {k: (image if v is None else v) for k, v in files.items()}
    files["images/ok.png"] = chart_pngs(1, size=40, seed=9)[0][0]  # a good image in the same batch
    r = _import_zip(client, project, token, _zip(files))
    assert r.status_code in (409, 422), r.text
    assert message in r.json()["detail"]
    assert _items(client, project) == 0
    assert not list((env / "projects").rglob("*.png")) if (env / "projects").exists() else True


def test_a_duplicate_in_the_batch_or_the_project_refuses_the_import(client, project):
    token = login(client, "lead")
    files, _ = _charts(1)
    image = files["images/c0.png"]
    r = _import_zip(client, project, token, _zip({"a.png": image, "b.png": image}))
    assert r.status_code == 409 and "same image" in r.json()["detail"]
    assert _import_zip(client, project, token, _zip({"a.png": image})).status_code == 201
    r = _import_zip(client, project, token, _zip(files))
    assert r.status_code == 409 and _items(client, project) == 1


def test_exif_orientation_is_applied_before_storing(client, project):
    token = login(client, "lead")
    pixels = np.zeros((16, 32, 3), dtype=np.uint8)
    pixels[:, :8] = 255  # a white band on the left, as stored
    img = Image.fromarray(pixels)
    exif = img.getexif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to show
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif, quality=100)
    r = _import_zip(client, project, token, _zip({"phone.jpg": buf.getvalue()}))
    assert r.status_code == 201, r.text
    item = r.json()["items"][0]
    assert (item["width"], item["height"]) == (16, 32)  # upright: portrait
    from app.imaging import decode_image

    upright = decode_image(buf.getvalue(), max_pixels=10_000)
    assert upright.shape == (32, 16, 3) and upright[:8].mean() > 200 and upright[-8:].mean() < 50
