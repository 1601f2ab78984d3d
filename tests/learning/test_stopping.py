"""The stop report: plateau of validation mIoU, or little expected information per label."""

from __future__ import annotations

import json

import pytest

from app.learning.stopping import stop_report

RISING = [{"miou_fg": 0.1 * i, "labeled": 10 * i} for i in range(5)]


def test_still_improving() -> None:
    r = stop_report(RISING)
    assert r["stop"] is False and r["plateau_rounds"] == 0 and r["reason"] == "still improving"
    assert r["best_miou_fg"] == pytest.approx(0.4) and r["best_round"] == 4 and r["labeled"] == 40
    assert r["gain_per_label"] == pytest.approx(0.3 / 30)  # last 3 rounds: +0.3 mIoU for 30 labels
    json.dumps(r)


def test_plateau_after_patience_rounds() -> None:
    flat = RISING + [{"miou_fg": 0.401, "labeled": 60}, {"miou_fg": 0.403, "labeled": 70}]
    assert stop_report(flat)["stop"] is False  # 2 rounds without a real gain, patience 3
    r = stop_report(flat + [{"miou_fg": 0.399, "labeled": 80}])
    assert r["stop"] and r["plateau_rounds"] == 3 and r["criteria"] == {"plateau": True, "information": False}
    assert "not improved" in r["reason"]
    # gains under min_delta do not reset the count, a real one does
    assert stop_report(flat + [{"miou_fg": 0.42, "labeled": 80}])["plateau_rounds"] == 0


def test_information_gain_under_threshold() -> None:
    r = stop_report(RISING, info_gain_per_label=[0.5, 0.001], info_threshold=0.01)
    assert r["stop"] and "information gain" in r["reason"] and r["info_gain_per_label"] == 0.001
    assert stop_report(RISING, info_gain_per_label=[0.5, 0.02], info_threshold=0.01)["stop"] is False
    assert stop_report(RISING, info_gain_per_label=[0.001])["stop"] is False  # no threshold: not a criterion


def test_empty_and_unmeasured_history() -> None:
    r = stop_report([])
    assert r["stop"] is False and r["best_miou_fg"] is None and r["rounds"] == 0
    r = stop_report([{"miou_fg": None, "labeled": 5}, {"miou_fg": 0.3, "labeled": 10}])
    assert r["rounds"] == 1 and r["best_miou_fg"] == pytest.approx(0.3)
    with pytest.raises(ValueError):
        stop_report(RISING, patience=0)
