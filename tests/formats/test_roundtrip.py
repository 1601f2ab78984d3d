"""Exports read back by the real libraries (pycocotools, Label Studio's converter), pixel for pixel, and
what those libraries wrote imported again."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.factories import CLASSES, chart_pngs, make_project, make_user, png_bytes

IGNORE = 255


def _partial(mask: np.ndarray, seed: int) -> np.ndarray:
    """A ground-truth mask with an unlabeled band (255), as a real partial label has."""
    out = mask.astype(np.uint8).copy()
    rows = slice(5 + seed, 15 + seed)
    out[rows, :] = IGNORE
    return out


@pytest.fixture
def labeled_project(env: Path) -> tuple[int, dict[str, np.ndarray]]:
    """A project with 3 charts imported with partial PNG masks; returns (project id, {stem: mask})."""
    from app.db import session_scope
    from app.flows import imports
    from app.items.models import Split
    from app.projects.models import Project

    make_user("lead", "lead")
    project_id = make_project("src")
    bundle: dict[str, bytes] = {}
    truth = {}
    for n, (data, mask) in enumerate(chart_pngs(3, size=48, seed=11)):
        partial = _partial(mask, n)
        bundle[f"images/c{n}.png"] = data
        bundle[f"masks/c{n}.png"] = png_bytes(partial)
        truth[f"c{n}"] = partial
    with session_scope() as session:
        project = session.get(Project, project_id)
        assert project is not None
        done = imports.import_bundle(session=session, project=project, bundle=bundle, split=Split.pool, user=None)
        assert done.kind == "images+masks" and len(done.items) == 3 and done.annotations == 3
    return project_id, truth


def _export(project_id: int, fmt: str) -> dict[str, bytes]:
    from app.db import session_scope
    from app.flows import export
    from app.projects.models import Project

    with session_scope() as session:
        project = session.get(Project, project_id)
        return export.export_project(session=session, project=project, fmt=fmt)


def _stem(file_name: str) -> str:
    return Path(file_name).stem.rsplit("-", 1)[1]


def _import_into_new_project(name: str, bundle: dict[str, bytes], annotations: tuple[str, bytes] | None = None):
    from app.db import session_scope
    from app.flows import export, imports
    from app.items.models import Split
    from app.projects.models import Project

    project_id = make_project(name)
    with session_scope() as session:
        project = session.get(Project, project_id)
        imports.import_bundle(session=session, project=project, bundle=bundle, split=Split.pool, user=None,
                              annotations=annotations)
    with session_scope() as session:
        project = session.get(Project, project_id)
        images = export.labeled_images(session=session, project=project)
        return {_stem(i.file_name): i.mask for i in images}


def test_coco_export_reads_back_with_pycocotools_and_imports_again(labeled_project, tmp_path):
    from pycocotools.coco import COCO

    project_id, truth = labeled_project
    bundle = _export(project_id, "coco")
    path = tmp_path / "annotations.json"
    path.write_bytes(bundle["annotations.json"])
    coco = COCO(str(path))
    assert [c["name"] for c in coco.loadCats(coco.getCatIds())] == [name for name, _ in CLASSES]
    assert len(coco.getImgIds()) == 3
    for img in coco.loadImgs(coco.getImgIds()):
        mask = np.full((img["height"], img["width"]), IGNORE, dtype=np.uint8)
        for ann in coco.loadAnns(coco.getAnnIds(imgIds=img["id"])):
            mask[coco.annToMask(ann) == 1] = ann["category_id"] - 1  # category id = class index + 1
        np.testing.assert_array_equal(mask, truth[_stem(img["file_name"])])
    # What pycocotools holds (its dataset, dumped again) imports into a new project with the same masks.
    again = _import_into_new_project("from-coco", {k: v for k, v in bundle.items() if k.startswith("images/")},
                                     ("coco.json", json.dumps(coco.dataset).encode()))
    assert again.keys() == truth.keys()
    for stem, mask in again.items():
        np.testing.assert_array_equal(mask, truth[stem])


def test_coco_polygons_and_uncompressed_rle_import(env: Path):
    from pycocotools import mask as mask_utils

    make_user("lead", "lead")
    image = np.random.default_rng(0).integers(0, 255, (20, 30, 3), dtype=np.uint8)
    square = np.zeros((20, 30), dtype=np.uint8)
    square[5:10, 3:12] = 1
    fortran = mask_utils.encode(np.asfortranarray(square))
    counts = _counts(square.flatten(order="F"))
    doc = {"images": [{"id": 7, "file_name": "a.png", "width": 30, "height": 20}],
           "categories": [{"id": 1, "name": "curve-1"}, {"id": 2, "name": "curve-2"}],
           "annotations": [
               {"id": 1, "image_id": 7, "category_id": 1, "segmentation": [[20, 2, 28, 2, 28, 8, 20, 8]]},
               {"id": 2, "image_id": 7, "category_id": 2, "segmentation": {"size": [20, 30], "counts": counts}}]}
    assert mask_utils.area(fortran) == square.sum()
    masks = _import_into_new_project("poly", {"a.png": png_bytes(image)}, ("c.json", json.dumps(doc).encode()))
    mask = masks["a"]
    assert (mask[5:10, 3:12] == 2).all()
    assert (mask[3:8, 21:28] == 1).all()
    assert (mask[15:, :] == IGNORE).all()


def _counts(flat: np.ndarray) -> list[int]:
    """Uncompressed COCO RLE: run lengths in column-major order, starting with a run of zeros."""
    import itertools

    runs = [len(list(g)) for _, g in itertools.groupby(flat.tolist())]
    return runs if flat[0] == 0 else [0, *runs]


def test_labelstudio_export_reads_back_with_label_studio_converter_and_imports_again(labeled_project, tmp_path):
    from label_studio_converter import Converter, brush

    project_id, truth = labeled_project
    bundle = _export(project_id, "labelstudio")
    tasks_path = tmp_path / "tasks.json"
    tasks_path.write_bytes(bundle["tasks.json"])
    out = tmp_path / "png"
    out.mkdir()
    converter = Converter(bundle["labeling_config.xml"].decode(), str(tmp_path), download_resources=False)
    converter.convert(str(tasks_path), str(out), "BRUSH_TO_PNG", is_dir=False)
    tasks = json.loads(bundle["tasks.json"])
    assert len(tasks) == 3
    names = {index: name for index, (name, _) in enumerate(CLASSES)}
    written = sorted(p.name for p in out.iterdir())
    for task in tasks:
        stem = _stem(task["data"]["image"])
        expected = truth[stem]
        rebuilt = np.full(expected.shape, IGNORE, dtype=np.uint8)
        for index, name in names.items():
            files = [f for f in written if f.startswith(f"task-{task['id']}-") and f.endswith(f"-label-{name}-0.png")]
            if not (expected == index).any():
                assert files == []
                continue
            assert len(files) == 1, written
            layer = np.asarray(Image.open(out / files[0]))
            rebuilt[layer > 127] = index
        np.testing.assert_array_equal(rebuilt, expected)
    # Label Studio's own encoder (brush.image2annotation, from the PNGs its converter wrote) -> import.
    ls_tasks = []
    for task in tasks:
        results = []
        for f in sorted(f for f in written if f.startswith(f"task-{task['id']}-")):
            label = f.split("-label-", 1)[1].rsplit("-", 1)[0]
            results += brush.image2annotation(str(out / f), label, "label", "image")["result"]
        ls_tasks.append({"id": task["id"], "data": {"image": f"/data/upload/1/{Path(task['data']['image']).name}"},
                         "annotations": [{"id": 1, "result": results}]})
    images = {k: v for k, v in bundle.items() if k.startswith("images/")}
    again = _import_into_new_project("from-ls", images, ("ls.json", json.dumps(ls_tasks).encode()))
    assert again.keys() == truth.keys()
    for stem, mask in again.items():
        np.testing.assert_array_equal(mask, truth[stem])


def test_our_brush_rle_matches_label_studio_encoder_and_decoder():
    from label_studio_converter import brush

    from app.formats import labelstudio

    rng = np.random.default_rng(3)
    binary = rng.random((37, 53)) > 0.7
    binary[:, 10:40] = True  # long runs too
    ours = labelstudio.mask_to_rle(binary)
    theirs = brush.mask2rle(binary.astype(np.uint8) * 255)
    decoded = np.reshape(brush.decode_rle(ours), (37, 53, 4))[:, :, 3] > 127
    np.testing.assert_array_equal(decoded, binary)
    np.testing.assert_array_equal(labelstudio.rle_to_mask(theirs, 53, 37), binary)


def test_png_export_holds_masks_previews_and_classes(labeled_project):
    project_id, truth = labeled_project
    bundle = _export(project_id, "png")
    classes = json.loads(bundle["classes.json"])
    assert [c["name"] for c in classes] == [name for name, _ in CLASSES]
    masks = {_stem(k): k for k in bundle if k.startswith("masks/")}
    assert masks.keys() == truth.keys()
    for stem, key in masks.items():
        img = Image.open(io.BytesIO(bundle[key]))
        assert img.mode == "L"
        np.testing.assert_array_equal(np.asarray(img), truth[stem])
        preview = Image.open(io.BytesIO(bundle[key.replace("masks/", "previews/")]))
        assert preview.size == img.size and preview.mode == "RGB"
    # The export imports back as it is (classes.json and the previews are not imported as images).
    again = _import_into_new_project("from-png", bundle)
    assert again.keys() == truth.keys()
    for stem, mask in again.items():
        np.testing.assert_array_equal(mask, truth[stem])


_IMG = [{"id": 1, "file_name": "a.png", "width": 8, "height": 8}]
_CAT = [{"id": 1, "name": "curve-1"}]


@pytest.mark.parametrize("doc, message", [
    ({"images": 1, "annotations": [], "categories": []}, "must be lists"),
    ({"images": _IMG, "categories": _CAT,
      "annotations": [{"image_id": 1, "category_id": 1, "segmentation": {"size": [8, 8], "counts": "0<0"}}]},
     "counts do not add up"),
    ({"images": _IMG, "categories": _CAT, "annotations": [{"image_id": 2, "category_id": 1, "segmentation": []}]},
     "refers to a missing"),
])
def test_malformed_coco_is_refused_with_a_message(doc, message):
    from app.formats import ClassDef, FormatError, coco

    classes = [ClassDef(i, name, color) for i, (name, color) in enumerate(CLASSES)]
    with pytest.raises(FormatError, match=message):
        coco.read(doc, classes)


def test_export_zip_is_a_zip(labeled_project):
    from app.formats import write_zip

    project_id, _ = labeled_project
    names = zipfile.ZipFile(io.BytesIO(write_zip(_export(project_id, "coco")))).namelist()
    assert "annotations.json" in names and sum(n.startswith("images/") for n in names) == 3
