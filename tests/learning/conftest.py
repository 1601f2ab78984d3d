"""Shared set-up of the learning-core tests: one torch thread (tests/torch_threads.py)."""

from tests.torch_threads import one_torch_thread  # noqa: F401  (an autouse fixture: importing registers it)
