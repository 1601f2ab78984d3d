"""Agreement arithmetic against a case worked by hand, and the majority rule training reads."""

from __future__ import annotations

import numpy as np
import pytest

U = 255
A = np.array([[0, 1, 1], [0, 1, 2], [U, 2, 2]], dtype=np.uint8)
B = np.array([[0, 1, 0], [1, 1, 2], [U, U, 2]], dtype=np.uint8)


def test_per_class_iou_and_dice_match_the_hand_computed_case():
    from app.agreement.compute import class_agreement, task_score

    rows = class_agreement(A, B, 3)
    # class 0: A {(0,0),(1,0)}, B {(0,0),(0,2)}: 1 shared of 3 -> IoU 1/3, Dice 2/4
    # class 1: A {(0,1),(0,2),(1,1)}, B {(0,1),(1,0),(1,1)}: 2 of 4 -> IoU 1/2, Dice 4/6
    # class 2: A {(1,2),(2,1),(2,2)}, B {(1,2),(2,2)}: 2 of 3 -> IoU 2/3, Dice 4/5
    assert [(r.pixels_a, r.pixels_b, r.intersection) for r in rows] == [(2, 2, 1), (3, 3, 2), (3, 2, 2)]
    assert [r.iou for r in rows] == pytest.approx([1 / 3, 1 / 2, 2 / 3])
    assert [r.dice for r in rows] == pytest.approx([1 / 2, 2 / 3, 4 / 5])
    score = task_score(rows)
    assert score.mean_iou == pytest.approx(0.5)
    assert score.mean_dice == pytest.approx((1 / 2 + 2 / 3 + 4 / 5) / 3)
    assert (score.worst_class_index, score.worst_iou) == (0, pytest.approx(1 / 3))


def test_a_class_neither_copy_has_is_no_evidence():
    from app.agreement.compute import class_agreement, task_score

    rows = class_agreement(A, B, 4)
    assert (rows[3].iou, rows[3].dice) == (None, None)
    assert task_score(rows).mean_iou == pytest.approx(0.5)  # the absent class does not flatter the mean


def test_majority_keeps_what_most_copies_say_and_leaves_ties_unlabeled():
    from app.annotations.consensus import majority_mask

    c = np.array([[0, 1, 1], [1, 2, 2], [U, 2, 1]], dtype=np.uint8)
    got = majority_mask([A, B, c])
    assert got.tolist() == [[0, 1, 1], [1, 1, 2], [U, 2, 2]]
    # two copies: a pixel they disagree on is left out of training; one only one copy labeled keeps it
    assert majority_mask([A, B]).tolist() == [[0, 1, U], [U, 1, 2], [U, 2, 2]]


def test_difference_map_marks_pixels_where_copies_differ():
    from app.agreement.compute import difference_map

    assert difference_map([A, B]).tolist() == [[False, False, True], [True, False, False], [False, True, False]]
