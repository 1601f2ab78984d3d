"""The `labelwise` command as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import FAST_SETTINGS


def run_cli(args: list[str], data_dir: Path, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LABELWISE_")}
    env.update(FAST_SETTINGS, **extra_env)
    return subprocess.run([sys.executable, "-m", "app.cli", "--data-dir", str(data_dir), *args],
                          env=env, capture_output=True, text=True, timeout=600)


TINY = ["--images", "6", "--validation", "2", "--size", "48", "--seed-labels", "2", "--retrain-every", "2"]


def test_demo_once_prints_a_line_per_step_and_keeps_the_project(tmp_path):
    r = run_cli(["demo", "--once", *TINY], tmp_path)
    assert r.returncode == 0, r.stderr
    steps = [line.split("]")[0] + "]" for line in r.stdout.splitlines() if line.startswith("[")]
    assert steps == ["[setup]", "[create]", "[seed]", "[train]", "[rank]", "[label]", "[retrain]", "[rerank]", "[done]"]
    assert (tmp_path / "labelwise.sqlite3").exists()
    again = run_cli(["demo", "--once", *TINY], tmp_path)  # continues with the kept project
    assert again.returncode == 0, again.stderr
    assert "exists" in again.stdout and "[retrain]" in again.stdout


def test_demo_fails_with_one_clear_line(tmp_path):
    r = run_cli(["demo", "--once", *TINY[:-4], "--seed-labels", "0"], tmp_path)
    assert r.returncode == 1
    assert r.stderr.strip().splitlines()[-1].startswith("labelwise demo: failed: nothing is labeled")
    r = run_cli(["demo", "--once"], tmp_path, LABELWISE_BROKER_URL="redis://127.0.0.1:1/0")
    assert r.returncode == 2 and "in-process worker" in r.stderr


def test_migrate_and_create_user(tmp_path):
    assert run_cli(["migrate"], tmp_path).returncode == 0
    r = run_cli(["create-user", "alice", "--role", "lead", "--password", "long-enough"], tmp_path)
    assert r.returncode == 0 and "created lead 'alice'" in r.stdout
    r = run_cli(["create-user", "alice", "--password", "long-enough"], tmp_path)
    assert r.returncode == 1 and "exists already" in r.stderr
    for name, password, words in [("bob", "short", "at least 10"), ("bob", " " * 8, "at least 10"),
                                  ("bob", " " * 12, "only spaces"), ("bob", "bob-the-builder", "user name"),
                                  ("bob", "password123", "common"), ("", "long-enough", "user name"),
                                  ("ALICE", "long-enough", "exists already")]:
        r = run_cli(["create-user", name, "--password", password], tmp_path)
        assert r.returncode == (1 if "exists" in words else 2), (name, password, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1 and words in r.stderr, r.stderr
