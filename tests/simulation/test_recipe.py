"""The training recipe on data of another kind than the well-log charts (small shapes on clutter,
tests/simulation/clutter.py), validation-driven stopping, and the refusal to report ratios against a
full-data reference that learned nothing."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import torch

from app.cli import main
from app.learning.train import TrainConfig, train_segmenter
from app.learning.welllog import generate_dataset
from app.simulation.config import ReferenceTooWeakError
from app.simulation.run import check_reference
from tests.simulation.clutter import CLASSES, clutter_image, write_clutter_folder


@pytest.fixture(scope="module")
def clutter_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_clutter_folder(tmp_path_factory.mktemp("clutter") / "data", 24, seed=3, size=64)


def test_clutter_data_is_what_the_issue_describes() -> None:
    rng = np.random.default_rng(0)
    masks = [clutter_image(rng, 96)[1] for _ in range(40)]
    fg = float(np.mean([(m > 0).mean() for m in masks]))
    assert 0.01 < fg < 0.03  # about 2% foreground
    assert {int(v) for m in masks for v in np.unique(m)} == set(range(len(CLASSES)))  # three classes


def test_check_reference_refuses_a_near_zero_reference() -> None:
    check_reference({"miou_fg": 0.4, "miou_fg_per_seed": [0.4]}, 0.1)  # fine: nothing raised
    with pytest.raises(ReferenceTooWeakError, match=r"0\.050 \(per seed: 0\.100, 0\.000\).*--min-reference 0\.1"):
        check_reference({"miou_fg": 0.05, "miou_fg_per_seed": [0.1, 0.0]}, 0.1)
    with pytest.raises(ReferenceTooWeakError, match="none"):
        check_reference({"miou_fg": None, "miou_fg_per_seed": [None]}, 0.1)


def test_cli_exit_3_and_one_line_when_the_reference_learned_nothing(
        clutter_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # 2 optimisation steps learn nothing: the reference is near zero, and no ratio may be reported
    code = main(["simulate", "--data", str(clutter_folder), "--out", str(tmp_path / "out"), "--steps", "2",
                 "--quiet", "--seeds", "1", "--strategies", "random,entropy"])
    err = capsys.readouterr().err
    assert code == 3
    assert err.startswith("labelwise: refused: the full-data reference reached foreground mIoU")
    assert err.count("\n") == 1 and "--min-reference 0.1" in err
    assert not (tmp_path / "out").exists()


def test_validation_stopping_keeps_the_best_weights_and_stops_after_patience() -> None:
    data = generate_dataset(4, seed=1, size=32)
    scores = iter([0.1, 0.5, 0.3, 0.45, 0.2, 0.9])  # best at the 2nd score; 3 without gain then stop
    seen: list[dict[str, torch.Tensor]] = []

    def validate(model: torch.nn.Module) -> float:
        assert not model.training
        seen.append(copy.deepcopy(model.state_dict()))
        return next(scores)

    cfg = TrainConfig(epochs=50, batch_size=2, lr=1e-2, eval_every=2, patience=3, crop_size=None)
    model, hist = train_segmenter([a for a, _ in data], [b for _, b in data], 3, config=cfg, validate=validate)
    assert [s for _, s in hist["val_scores"]] == [0.1, 0.5, 0.3, 0.45, 0.2]
    assert hist["stopped_by"] == "plateau" and hist["best_step"] == 4 and hist["best_score"] == 0.5
    assert hist["steps"] == 10
    best = seen[1]
    assert all(torch.equal(v, best[k]) for k, v in model.state_dict().items())
    assert not all(torch.equal(v, seen[-1][k]) for k, v in model.state_dict().items())  # not the last weights


def test_a_folder_gets_the_validation_driven_recipe_and_the_charts_keep_theirs(clutter_folder: Path) -> None:
    import argparse

    from app.simulation.cli import add_arguments, config_from_args
    from app.simulation.config import FOLDER_RECIPE, SimConfig

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    folder = config_from_args(parser.parse_args(["--data", str(clutter_folder), "--out", "x"]))
    assert (folder.steps, folder.lr, folder.eval_every, folder.patience, folder.crop) == (
        FOLDER_RECIPE["steps"], FOLDER_RECIPE["lr"], FOLDER_RECIPE["eval_every"], FOLDER_RECIPE["patience"],
        FOLDER_RECIPE["crop"])
    chart = config_from_args(parser.parse_args(["--out", "x"]))
    d = SimConfig()
    assert (chart.steps, chart.lr, chart.eval_every, chart.patience, chart.crop) == (
        d.steps, d.lr, d.eval_every, d.patience, d.crop)
    # what the user sets wins on either
    mine = config_from_args(parser.parse_args(["--data", str(clutter_folder), "--out", "x", "--steps", "40",
                                               "--eval-every", "0", "--crop", "0", "--lr", "0.01"]))
    assert (mine.steps, mine.eval_every, mine.crop, mine.lr, mine.patience) == (40, 0, None, 0.01,
                                                                                FOLDER_RECIPE["patience"])
