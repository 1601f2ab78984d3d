"""Pseudo-labels never include a pixel at or below the bar, and the bar is read off the reliability bins."""

from __future__ import annotations

import numpy as np
import pytest

from app.learning.calibration import reliability_bins
from app.learning.constants import IGNORE_INDEX
from app.learning.pseudo import (
    bar_from_reliability,
    bars_per_predicted_class,
    cap_background,
    pseudo_labels,
    pseudo_labels_per_class,
)


@pytest.mark.parametrize("bar", [0.0, 0.5, 0.8, 0.95, 0.999])
def test_pseudo_labels_never_include_pixels_below_the_bar(bar: float) -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, (3, 32, 32))
    probs = np.exp(logits) / np.exp(logits).sum(0)
    out = pseudo_labels(probs, bar)
    conf = probs.max(0)
    kept = out != IGNORE_INDEX
    assert not kept[conf <= bar].any()  # nothing at or below the bar
    assert kept[conf > bar].all()  # everything above it
    assert (out[kept] == probs.argmax(0)[kept]).all()


def test_bar_from_reliability_bins() -> None:
    # confident pixels right, unsure ones often wrong: the bar sits where accuracy holds from there up
    rng = np.random.default_rng(1)
    n = 20_000
    conf = rng.uniform(0.34, 1.0, n)
    right = rng.random(n) < np.where(conf > 0.8, 0.99, 0.5)
    probs = np.zeros((n, 3))
    probs[:, 0] = conf
    probs[:, 1] = probs[:, 2] = (1 - conf) / 2
    labels = np.where(right, 0, 1)
    bins = reliability_bins(probs[:, :, None], labels[:, None], n_bins=10, per_class=False)["overall"]
    bar = bar_from_reliability(bins, 0.95)
    assert bar == pytest.approx(0.8)
    assert bar_from_reliability(bins, 0.999) is None


@pytest.mark.parametrize("share", [0.0, 0.5, 1.0, 3.0])
def test_capped_background_keeps_the_foreground_and_at_most_share_background(share: float) -> None:
    rng = np.random.default_rng(2)
    logits = rng.normal(0, 3, (3, 32, 32))
    logits[0] += 3  # mostly paper, as on the charts
    probs = np.exp(logits) / np.exp(logits).sum(0)
    bar = 0.9
    full = pseudo_labels(probs, bar)
    out = cap_background(full, share, np.random.default_rng(0))
    fg = (full != 0) & (full != IGNORE_INDEX)
    assert (out[fg] == full[fg]).all()  # every confident curve pixel stays
    assert (out == 0).sum() == min((full == 0).sum(), int(share * fg.sum()))
    kept = out != IGNORE_INDEX
    assert (out[kept] == full[kept]).all() and not kept[probs.max(0) <= bar].any()  # only ever removes
    empty = np.where(full == 0, 0, IGNORE_INDEX).astype(np.uint8)  # confident paper, no curve: nothing kept
    assert (cap_background(empty, share, np.random.default_rng(0)) == IGNORE_INDEX).all()
    with pytest.raises(ValueError):
        cap_background(full, -1.0, np.random.default_rng(0))


def _pixels(top: list[int], conf: list[float], n_classes: int = 3) -> np.ndarray:
    """[P, C] probabilities: class top[i] at conf[i], the rest shared evenly."""
    probs = np.repeat(((1 - np.asarray(conf)) / (n_classes - 1))[:, None], n_classes, axis=1)
    probs[np.arange(len(top)), top] = conf
    return probs


def test_per_class_bar_keeps_out_the_curve_pixels_the_paper_vouches_for() -> None:
    # validation: 2000 paper pixels, all right (half at 0.95, half at 0.85); 40 curve predictions, right at 0.95
    # and half wrong at 0.85. Overall the 0.8 bin is 99% right thanks to the paper, so one bar admits the
    # 0.85 curve pixels; class 1's own bins put its bar at 0.9. No pixel is ever predicted as class 2.
    top = [0] * 2000 + [1] * 40
    conf = [0.95] * 1000 + [0.85] * 1000 + [0.95] * 20 + [0.85] * 20
    labels = np.array([0] * 2000 + [1] * 20 + [1, 0] * 10)
    probs = _pixels(top, conf)
    overall = reliability_bins(probs, labels, n_bins=10, per_class=False)["overall"]
    assert bar_from_reliability(overall, 0.98) == pytest.approx(0.8)
    bars = bars_per_predicted_class(probs, labels, 0.98, n_bins=10)
    assert bars[0] == pytest.approx(0.8) and bars[1] == pytest.approx(0.9) and bars[2] is None
    # a chart: paper at 0.85, a curve pixel at 0.95 and one at 0.85, a class-2 pixel at 0.99
    chart = _pixels([0, 1, 1, 2], [0.85, 0.95, 0.85, 0.99]).T.reshape(3, 2, 2)
    assert pseudo_labels(chart, 0.8).ravel().tolist() == [0, 1, 1, 2]  # the global bar takes the unsure curve
    assert pseudo_labels_per_class(chart, bars).ravel().tolist() == [0, 1, IGNORE_INDEX, IGNORE_INDEX]
    worse = labels.copy()
    worse[2000] = 0  # one of the 20 sure curve pixels wrong: class 1's top bin is 95% right, no bin holds 98%
    no_curve = bars_per_predicted_class(probs, worse, 0.98, n_bins=10)
    assert no_curve[1] is None and no_curve[0] == pytest.approx(0.8)
    assert pseudo_labels_per_class(chart, no_curve).ravel().tolist() == [0] + [IGNORE_INDEX] * 3
    with pytest.raises(ValueError, match="bars"):
        pseudo_labels_per_class(chart, bars[:2])


def test_per_class_pseudo_labels_never_include_a_pixel_at_or_below_its_class_bar() -> None:
    rng = np.random.default_rng(3)
    logits = rng.normal(0, 3, (4, 32, 32))
    probs = np.exp(logits) / np.exp(logits).sum(0)
    conf, pred = probs.max(0), probs.argmax(0)
    for bars in ([0.5, 0.9, 0.7, None], [0.0, 0.0, 0.0, 0.0], [None] * 4, [0.99, 0.6, None, 0.8]):
        out = pseudo_labels_per_class(probs, bars)
        limit = np.array([np.inf if b is None else b for b in bars])[pred]
        kept = out != IGNORE_INDEX
        assert not kept[conf <= limit].any() and kept[conf > limit].all()
        assert (out[kept] == pred[kept]).all()
    assert (pseudo_labels_per_class(probs, [0.5] * 4) == pseudo_labels(probs, 0.5)).all()  # one bar: as before
