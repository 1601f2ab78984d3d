"""Folder data for the simulator: classes.json, and bad input failing at once (file named,
nothing written, exit code 2 from the CLI)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.cli import main
from app.learning.welllog import generate_dataset
from app.simulation.config import SimulationInputError
from app.simulation.data import load_data, read_folder
from app.simulation.run import SimConfig, run_simulation

CLASSES = ["paper", "red curve", "blue curve"]


def _folder(root: Path, n: int = 14, classes: object = None) -> Path:
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for i, (image, mask) in enumerate(generate_dataset(n, seed=5, size=40)):
        Image.fromarray(image).save(root / "images" / f"chart{i:02d}.png")
        Image.fromarray(mask).save(root / "masks" / f"chart{i:02d}.png")
    if classes is not None:
        (root / "classes.json").write_text(json.dumps(classes))
    return root


def _sim(data: Path) -> SimConfig:
    return SimConfig(data=str(data), strategies=("random", "entropy"), test=4, val=2, rounds=1, seeds=1, steps=3,
                     train_batch=4, batch=2, crop=None, score_subset=4, mc_samples=2, min_reference=0.0)


@pytest.mark.parametrize("classes", [CLASSES, {"classes": CLASSES}])
def test_folder_with_classes_json_runs(tmp_path: Path, classes: object) -> None:
    data = _folder(tmp_path / "data", classes=classes)
    results = run_simulation(_sim(data), tmp_path / "out", plot=False)
    assert results["classes"] == CLASSES
    assert list(results["full_data"]["per_class_iou"]) == CLASSES
    assert results["data"] == {"source": str(data), "pool_images": 8, "test_images": 4, "val_images": 2,
                               "pool_pixels": 8 * 40 * 40}
    saved = json.loads((tmp_path / "out" / "results.json").read_text())
    assert [r["labeled_tasks"] for r in saved["strategies"]["entropy"]["rounds"]] == [2, 4]


def test_folder_without_classes_json_names_classes_by_id(tmp_path: Path) -> None:
    classes, images, masks, stems = read_folder(_folder(tmp_path / "data", n=4))
    assert classes == ["background", "class-1", "class-2"]
    assert stems == ["chart00", "chart01", "chart02", "chart03"] and images[0].shape == (40, 40, 3)
    data = load_data(str(tmp_path / "data"), pool=None, test=1, val=0, size=0)
    assert len(data.pool_masks) == 3 and len(data.test_masks) == 1


def _missing_mask(root: Path) -> str:
    (root / "masks" / "chart03.png").unlink()
    return "chart03"


def _size_mismatch(root: Path) -> str:
    Image.fromarray(np.zeros((40, 36), np.uint8)).save(root / "masks" / "chart05.png")
    return "chart05.png"


def _class_outside(root: Path) -> str:
    mask = np.zeros((40, 40), np.uint8)
    mask[3, 3] = 3  # classes.json has 3 classes: ids 0..2
    Image.fromarray(mask).save(root / "masks" / "chart07.png")
    return "chart07.png"


def _rgb_mask(root: Path) -> str:
    Image.fromarray(np.zeros((40, 40, 3), np.uint8)).save(root / "masks" / "chart01.png")
    return "chart01.png"


def _bad_classes_json(root: Path) -> str:
    (root / "classes.json").write_text("{not json")
    return "classes.json"


BREAKERS = [_missing_mask, _size_mismatch, _class_outside, _rgb_mask, _bad_classes_json]


@pytest.mark.parametrize("breaker", BREAKERS, ids=[b.__name__.strip("_") for b in BREAKERS])
def test_bad_folder_fails_before_training_and_writes_nothing(tmp_path: Path, breaker) -> None:
    data = _folder(tmp_path / "data", classes=CLASSES)
    name = breaker(data)
    out = tmp_path / "out"
    with pytest.raises(SimulationInputError, match=name):
        run_simulation(_sim(data), out)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]  # no temp folder either


@pytest.mark.parametrize("breaker", [_missing_mask, _class_outside], ids=["missing_mask", "class_outside"])
def test_cli_exit_code_2_and_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], breaker) -> None:
    data = _folder(tmp_path / "data", classes=CLASSES)
    name = breaker(data)
    code = main(["simulate", "--data", str(data), "--out", str(tmp_path / "out"), "--steps", "2", "--quiet",
                 "--strategies", "random,entropy"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("labelwise: ") and name in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_cli_refuses_a_non_empty_out_folder_without_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    code = main(["simulate", "--out", str(out), "--size", "40", "--pool", "4", "--test", "2", "--quiet",
                 "--strategies", "random,entropy"])
    assert code == 2 and "--force" in capsys.readouterr().err
    assert (out / "keep.txt").read_text() == "mine"


@pytest.mark.parametrize("argv, word", [
    (["--strategies", "random,oracle"], "oracle"),
    (["--budget", "0"], "--budget"),
    (["--data", "/nonexistent/folder"], "/nonexistent/folder"),
])
def test_cli_bad_options_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
                                word: str) -> None:
    code = main(["simulate", "--out", str(tmp_path / "out"), "--quiet", "--strategies", "random,entropy", *argv])
    err = capsys.readouterr().err
    assert code == 2 and word in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()
