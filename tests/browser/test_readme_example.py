"""The README's Python example, run as written against a live server with a token made by the CLI's
function, so the documented API cannot drift from the real one."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np

from tests.factories import make_user, png_bytes

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_example() -> str:
    text = README.read_text()
    found = re.search(r"<!-- readme-example: python -->\n```python\n(.*?)```", text, re.S)
    assert found, "the README lost its marked Python example"
    return found.group(1)


def test_the_readme_example_runs_against_a_live_server(live_server, tmp_path):
    from app.auth import service, tokens
    from app.db import session_scope

    make_user("alice", "lead")
    with session_scope() as session:
        user = service.get_by_username(session=session, username="alice")
        assert user is not None
        _row, token = tokens.create(session=session, user=user, name="readme")
    images = tmp_path / "my-images"
    images.mkdir()
    rng = np.random.default_rng(1)
    for n in range(3):
        (images / f"road-{n}.png").write_bytes(png_bytes(rng.integers(0, 255, (24, 32, 3), dtype=np.uint8)))
    script = tmp_path / "example.py"
    script.write_text(readme_example())
    env = {k: v for k, v in os.environ.items() if not k.startswith("LABELWISE_")}
    env |= {"LABELWISE_URL": live_server, "LABELWISE_TOKEN": token, "IMAGES": str(images)}
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "signed in as alice" and "uploaded 3 images" in lines and "queue: 3 tasks" in lines
    with zipfile.ZipFile(tmp_path / "roads-coco.zip") as z:
        name = next(n for n in z.namelist() if n.endswith(".json"))
        coco = json.loads(z.read(name))
    assert len(coco["images"]) >= 1 and len(coco["annotations"]) == 1
    assert [c["name"] for c in coco["categories"]][:2] == ["background", "road"]
