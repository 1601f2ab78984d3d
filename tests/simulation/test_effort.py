"""The annotator effort model against costs computed by hand on tiny masks."""

from __future__ import annotations

import numpy as np
import pytest

from app.learning.acquisition import Candidate
from app.simulation.effort import (
    OVERHEAD_SECONDS,
    SECONDS_PER_KILOPIXEL,
    SECONDS_PER_STROKE,
    accumulate,
    by_hand_effort,
    correction_effort,
    tasks_effort,
)


def _cost(pixels: int, strokes: int) -> float:
    return OVERHEAD_SECONDS + SECONDS_PER_STROKE * strokes + SECONDS_PER_KILOPIXEL * pixels / 1000


def test_by_hand_paints_every_object() -> None:
    truth = np.zeros((6, 6), np.uint8)
    truth[0:2, 0:2] = 1  # an object of 4 px
    truth[4, 4] = 1  # another of 1 px, not touching it
    truth[3:5, 0] = 2  # a class-2 object of 2 px
    effort = by_hand_effort(truth)
    assert (effort.pixels_changed, effort.strokes) == (7, 3)
    assert effort.seconds == pytest.approx(_cost(7, 3))


def test_a_perfect_suggestion_costs_the_overhead_only() -> None:
    truth = np.zeros((5, 5), np.uint8)
    truth[1:3, 1:3] = 2
    effort = correction_effort(truth.copy(), truth)
    assert (effort.pixels_changed, effort.strokes, effort.seconds) == (0, 0, OVERHEAD_SECONDS)


def test_corrections_count_connected_error_regions_per_true_class() -> None:
    truth = np.zeros((5, 5), np.uint8)
    truth[0, 0:3] = 1  # a 3-px object
    suggestion = np.zeros((5, 5), np.uint8)
    suggestion[0, 0] = 1  # 1 of its 3 px found: the other 2 touch -> one stroke
    suggestion[4, 4] = 2  # a false object on the paper: one erasing stroke
    suggestion[2, 2] = 2  # another, not touching it (diagonal neighbours would touch)
    effort = correction_effort(suggestion, truth)
    assert (effort.pixels_changed, effort.strokes) == (4, 3)
    assert effort.seconds == pytest.approx(_cost(4, 3))


def test_diagonal_neighbours_are_one_stroke_and_void_is_never_counted() -> None:
    truth = np.zeros((3, 3), np.uint8)
    truth[0, 0] = truth[1, 1] = 1
    truth[2, 2] = 255  # void: whatever is suggested there costs nothing
    suggestion = np.zeros((3, 3), np.uint8)
    suggestion[2, 2] = 1
    effort = correction_effort(suggestion, truth)
    assert (effort.pixels_changed, effort.strokes) == (2, 1)


def test_tasks_effort_by_hand_and_tiles() -> None:
    truth = np.zeros((4, 8), np.uint8)
    truth[0, 0] = 1  # in the left tile
    truth[3, 7] = 2  # in the right tile
    image = np.zeros((4, 8, 3), np.uint8)
    tasks = [Candidate(0, (0, 0, 4, 4)), Candidate(0, (4, 0, 4, 4))]
    one = tasks_effort(tasks, [1], [image], [truth], None)
    assert one == {"seconds": pytest.approx(_cost(1, 1)), "by_hand_seconds": pytest.approx(_cost(1, 1)),
                   "pixels_changed": 1, "strokes": 1, "tasks": 1}
    both = tasks_effort(tasks, [0, 1], [image], [truth], None)
    assert both["seconds"] == pytest.approx(2 * _cost(1, 1)) and both["strokes"] == 2
    total = accumulate(accumulate(None, one), one)
    assert total["seconds"] == pytest.approx(2 * _cost(1, 1)) and total["round_seconds"] == pytest.approx(_cost(1, 1))
    assert total["tasks"] == 2


def test_a_suggestion_worse_than_none_is_cleared_and_drawn_by_hand() -> None:
    from app.simulation.effort import DISCARD_SECONDS, task_effort

    truth = np.zeros((9, 9), np.uint8)
    truth[0, 0] = 1  # one object: by hand 1 stroke
    noisy = np.zeros((9, 9), np.uint8)
    noisy[2::3, 2::3] = 2  # nine false objects, and the true one missed: 10 strokes to correct
    assert correction_effort(noisy, truth).strokes == 10
    effort = task_effort(noisy, truth)
    assert (effort.strokes, effort.pixels_changed) == (1, 1)
    assert effort.seconds == pytest.approx(_cost(1, 1) + DISCARD_SECONDS)
    good = truth.copy()
    assert task_effort(good, truth).seconds == OVERHEAD_SECONDS  # a right suggestion is kept
