"""Run a simulation and record what it labeled."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.simulation import run as run_module
from app.simulation.run import SimConfig, run_simulation


def labeled_calls(monkeypatch: pytest.MonkeyPatch, cfg: SimConfig, out: Path) -> tuple[list[list[int]], dict[str, Any]]:
    """Run `cfg` -> (every LabelState.label call's task ids, in call order; the results)."""
    calls: list[list[int]] = []
    original = run_module.LabelState.label

    def spy(self: Any, task_ids: Any) -> None:
        calls.append([int(t) for t in task_ids])
        original(self, task_ids)

    monkeypatch.setattr(run_module.LabelState, "label", spy)
    return calls, run_simulation(cfg, out, plot=False)
