"""One torch thread for the folders whose conftest imports this fixture (tests/learning, tests/simulation)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread() -> Iterator[None]:
    """Tiny convolutions: one thread avoids OpenMP barrier stalls on a busy 2-core machine, and the
    results do not depend on the machine's core count."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
