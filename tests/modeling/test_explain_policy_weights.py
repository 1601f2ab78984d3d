""""Why this task" weighs a hybrid pick's parts by the weights its ranking used (kept with the pick)."""

from __future__ import annotations

from app.modeling import explain

REGION = (0, 0, 8, 8)
PARTS = {"uncertainty": 0.5, "diversity": 0.5, "class_boost_norm": 0.5}


def _kinds(components: dict) -> list[str]:  # type: ignore[type-arg]
    return [r.kind for r in explain.reasons(strategy="hybrid", components=components, names=["bg", "a"],
                                            region=REGION)]


def test_the_policy_weights_kept_with_a_pick_decide_its_reasons():
    assert _kinds(PARTS)[0] == "unsure"  # the default weights favour uncertainty
    rare_first = {**PARTS, "weight_uncertainty": 0.1, "weight_diversity": 0.0, "weight_class_boost": 3.0}
    assert _kinds(rare_first) == ["rare"]
    unlike_first = {**PARTS, "weight_uncertainty": 0.0, "weight_diversity": 2.0, "weight_class_boost": 0.0}
    assert _kinds(unlike_first) == ["unlike"]
