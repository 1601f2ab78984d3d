"""bench/load.py --quick runs end to end (uvicorn, seeding, annotators, bare SQL, plans) and ends with its JSON."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import POSTGRES_ADMIN_URL, need

ROOT = Path(__file__).resolve().parents[1]
KEYS = {"next_p50_ms", "next_p99_ms", "submit_p99_ms", "cycles_per_s", "sql_lease_p50_ms", "next_p50_ms_1k",
        "next_p50_ms_1m"}


@pytest.mark.postgres
def test_load_bench_quick_prints_its_figures():
    need(bool(POSTGRES_ADMIN_URL), "Postgres (LABELWISE_TEST_POSTGRES_ADMIN_URL)")
    assert POSTGRES_ADMIN_URL
    t0 = time.monotonic()
    out = subprocess.run([sys.executable, "bench/load.py", "--quick", "--admin-url", POSTGRES_ADMIN_URL], cwd=ROOT,
                         capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    assert set(figures) == KEYS
    assert figures["cycles_per_s"] > 0 and figures["next_p50_ms"] > 0 and figures["sql_lease_p50_ms"] > 0
    assert "EXPLAIN ANALYZE" in out.stdout and "targets" in out.stdout
    print(f"bench/load.py --quick: {time.monotonic() - t0:.0f} s")
