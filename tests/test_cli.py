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


COMMANDS = [[], ["serve"], ["worker"], ["migrate"], ["demo"], ["import"], ["export"], ["train"], ["score"],
            ["users"], ["users", "create"], ["users", "set-role"], ["users", "deactivate"], ["users", "token"]]


def test_help_everywhere_and_simulate_shows_the_simulator_options(tmp_path):
    for command in COMMANDS:
        r = run_cli([*command, "--help"], tmp_path)
        assert r.returncode == 0 and "Usage" in r.stdout, (command, r.stderr)
    r = run_cli(["simulate", "--help"], tmp_path)
    assert r.returncode == 0 and "--strategies" in r.stdout and "--steered-share" in r.stdout
    r = run_cli(["simulate", "--unit", "pixels"], tmp_path)
    assert r.returncode == 2 and "invalid choice" in r.stderr


def test_bad_input_is_exit_2_with_one_line(tmp_path):
    for args in (["frobnicate"], ["export", "p", "--format", "yolo", "--out", "x.zip"], ["worker"],
                 ["demo", "--size", "8"]):
        r = run_cli(args, tmp_path)
        assert r.returncode == 2, (args, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1, (args, r.stderr)


def test_users_commands(tmp_path):
    assert run_cli(["migrate"], tmp_path).returncode == 0
    r = run_cli(["users", "create", "carol", "--role", "annotator", "--password", "long-enough"], tmp_path)
    assert r.returncode == 0 and "created annotator 'carol'" in r.stdout
    r = run_cli(["users", "set-role", "carol", "lead"], tmp_path)
    assert r.returncode == 0 and "now lead" in r.stdout
    r = run_cli(["users", "token", "carol", "--name", "nightly export"], tmp_path)
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip().splitlines()[-1]
    assert token.startswith("lw_") and len(token) == 46
    assert run_cli(["users", "deactivate", "carol"], tmp_path).returncode == 0
    assert run_cli(["users", "set-role", "nobody", "lead"], tmp_path).returncode == 2
    r = run_cli(["users", "token", "carol"], tmp_path)  # a deactivated user's token would be refused
    assert r.returncode == 2 and "deactivated" in r.stderr
    assert run_cli(["users", "token", "nobody"], tmp_path).returncode == 2
    import hashlib

    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{tmp_path / 'labelwise.sqlite3'}")
    with engine.connect() as conn:
        row = conn.execute(text("select role, is_active from user_account where username = 'carol'")).one()
        stored = conn.execute(text("select name, token_hash from api_token")).all()
    engine.dispose()
    assert row[0] == "lead" and not row[1]
    assert stored == [("nightly export", hashlib.sha256(token.encode()).hexdigest())]  # hashed at rest


def test_import_export_round_trip_on_a_temporary_project(env, tmp_path):
    import json
    import zipfile

    import numpy as np
    from PIL import Image

    from tests.factories import chart_pngs, make_project, make_user, png_bytes

    make_user("lead", "lead")
    make_project("charts", owner="lead")
    make_project("empty", owner="lead")
    src = tmp_path / "src"
    (src / "images").mkdir(parents=True)
    masks_dir = tmp_path / "masks"
    masks_dir.mkdir()
    truth = {}
    for n, (data, mask) in enumerate(chart_pngs(2, size=40, seed=21)):
        (src / "images" / f"c{n}.png").write_bytes(data)
        partial = mask.astype(np.uint8)
        partial[:4] = 255
        (masks_dir / f"c{n}.png").write_bytes(png_bytes(partial))
        truth[f"c{n}"] = partial

    r = run_cli(["export", "empty", "--format", "coco", "--out", str(tmp_path / "e.zip")], env)
    assert r.returncode == 2 and "no submitted annotations" in r.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('[{"data": {"image": "c0.png"}, "annotations": [{"result": 5}]}]')
    r = run_cli(["import", "charts", str(src / "images"), "--labelstudio", str(bad)], env)
    assert r.returncode == 2 and "malformed Label Studio" in r.stderr
    r = run_cli(["import", "charts", str(src), "--masks", str(masks_dir)], env)
    assert r.returncode == 0, r.stderr
    assert "imported 2 images (images+masks)" in r.stdout and "2 annotations" in r.stdout
    r = run_cli(["import", "charts", str(src)], env)
    assert r.returncode == 2 and "same image" in r.stderr

    for fmt, out in (("coco", "c.zip"), ("labelstudio", "ls.json"), ("png", "pngs")):
        r = run_cli(["export", "1", "--format", fmt, "--out", str(tmp_path / out)], env)
        assert r.returncode == 0 and "exported 2 labeled images" in r.stdout, r.stderr
    assert "annotations.json" in zipfile.ZipFile(tmp_path / "c.zip").namelist()
    assert len(json.loads((tmp_path / "ls.json").read_text())) == 2
    for mask_path in (tmp_path / "pngs" / "masks").iterdir():
        np.testing.assert_array_equal(np.asarray(Image.open(mask_path)), truth[mask_path.stem.rsplit("-", 1)[1]])
    assert len(list((tmp_path / "pngs" / "previews").iterdir())) == 2
    r = run_cli(["export", "charts", "--format", "coco", "--version", "reviewed", "--out", str(tmp_path / "r.zip")],
                env)
    assert r.returncode == 2 and "does not exist yet" in r.stderr
    # The COCO zip imports into the empty project as it is.
    r = run_cli(["import", "empty", str(tmp_path / "c.zip")], env)
    assert r.returncode == 0 and "(coco)" in r.stdout, r.stderr
    zip_trick = tmp_path / "trick.zip"
    with zipfile.ZipFile(zip_trick, "w") as z:
        z.writestr("../../x.png", b"x")
    r = run_cli(["import", "empty", str(zip_trick)], env)
    assert r.returncode == 2 and "outside the archive" in r.stderr


def test_train_and_score_on_a_temporary_project(env, tmp_path):
    from tests.factories import chart_pngs, make_project, make_user, png_bytes

    make_user("lead", "lead")
    make_project("charts", owner="lead")
    (tmp_path / "src" / "masks").mkdir(parents=True)
    for n, (data, mask) in enumerate(chart_pngs(4, size=40, seed=31)):
        (tmp_path / "src" / f"c{n}.png").write_bytes(data)
        if n < 3:
            (tmp_path / "src" / "masks" / f"c{n}.png").write_bytes(png_bytes(mask.astype("uint8")))
    r = run_cli(["score", "charts"], env)
    assert r.returncode == 2 and "no trained model" in r.stderr
    assert run_cli(["import", "charts", str(tmp_path / "src")], env).returncode == 0
    r = run_cli(["train", "charts"], env)
    assert r.returncode == 0 and "model v1 trained, scored and ranked" in r.stdout, r.stderr
    r = run_cli(["score", "charts"], env)
    assert r.returncode == 0 and "scored and ranked" in r.stdout, r.stderr
    assert run_cli(["train", "nope"], env).returncode == 2


def test_demo_answers_in_the_browser_before_its_first_model_is_ready(tmp_path):
    """A fresh data folder: the server answers (and the demo logins work) while the project and its
    first model are still being made behind it."""
    import socket
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LABELWISE_")}
    env.update(FAST_SETTINGS, LABELWISE_TRAIN_STEPS="400")  # training outlasts the server's start here
    log = tmp_path / "demo.log"
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", "--data-dir", str(tmp_path / "data"), "demo",
                             "--port", str(port), *TINY], env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        answered = None
        while time.monotonic() < deadline and answered is None:
            assert proc.poll() is None, log.read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as r:
                    answered = r.status
            except OSError:
                time.sleep(0.2)
        assert answered == 200, log.read_text()
        assert "[ready] the queue" not in log.read_text(), "the page should answer before the first model is ready"
        login = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/auth/login", method="POST",
                                       data=b'{"username": "lead", "password": "lead-demo"}',
                                       headers={"content-type": "application/json"})
        with urllib.request.urlopen(login, timeout=10) as r:
            assert r.status == 200
        assert "Log in as one of" in log.read_text()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
