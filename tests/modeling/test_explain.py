"""Why a task was picked, in words: which components carry which sentence."""

from __future__ import annotations

import numpy as np

from app.modeling import explain

NAMES = ["background", "curve-1", "curve-2"]
REGION = (0, 0, 64, 64)


def doubt_on_curve_2() -> explain.ClassDoubt:
    mask = np.zeros((64, 64), np.uint8)
    mask[10:20, 5:60] = 1
    mask[30:45, 20:40] = 2
    unsure = np.where(mask == 2, 60, 20).astype(np.uint8)
    unsure[40:45, 35:40] = 255  # the most doubtful corner of curve-2: its block holds the most doubt
    return explain.class_doubt(mask, unsure, REGION)


def test_class_doubt_names_the_class_and_the_block_of_most_doubt():
    d = doubt_on_curve_2()
    assert max(d.mean, key=lambda c: d.mean[c]) == 2
    x, y, w, h = d.box[2]
    assert x <= 35 < x + w and y <= 40 < y + h


def test_uncertainty_pick_names_the_doubted_class():
    rs = explain.reasons(strategy="entropy", components={"entropy_weighted": 0.6}, names=NAMES, region=REGION,
                         doubt=doubt_on_curve_2())
    assert [r.text for r in rs] == ["The model is unsure about curve-2 here."]
    assert rs[0].box == doubt_on_curve_2().box[2]


def test_without_a_suggestion_the_doubt_is_about_the_region():
    rs = explain.reasons(strategy="bald", components={}, names=NAMES, region=REGION)
    assert rs[0].kind == "unsure" and rs[0].box == REGION and "curve" not in rs[0].text


def test_hybrid_lists_the_parts_that_carried_the_pick_weightiest_first():
    comps = {"uncertainty": 0.1, "diversity": 0.9, "class_boost_norm": 0.8}
    rs = explain.reasons(strategy="hybrid", components=comps, names=NAMES, region=REGION, doubt=doubt_on_curve_2(),
                         class_weights=[0.2, 1.0, 1.8])
    assert [r.kind for r in rs] == ["unlike", "rare"]  # doubt: 0.1 of 0.95 is under the share that counts
    assert rs[1].text == "It likely shows curve-2, which few labels cover so far."


def test_random_picks_say_so_and_nothing_else():
    for strategy, comps in (("random", {"random": 1.0}), ("hybrid", {"steered_random": 1.0, "uncertainty": 0.9})):
        rs = explain.reasons(strategy=strategy, components=comps, names=NAMES, region=REGION)
        assert [r.kind for r in rs] == ["random"]
        assert rs[0].text.startswith("Picked at random to keep the queue honest")
