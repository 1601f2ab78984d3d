"""Shared set-up of the simulator tests: one torch thread, as for the learning core (tests/torch_threads.py)."""

from tests.torch_threads import one_torch_thread  # noqa: F401  (an autouse fixture: importing registers it)
