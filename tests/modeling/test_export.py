"""The live model version as TorchScript: loaded in a fresh process, it reproduces the suggested mask
the product stored for an item, pixel for pixel."""

from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
from PIL import Image

from tests.factories import CLASSES, chart_pngs, login, make_project, make_user

FRESH_PROCESS = """
import sys, numpy as np, torch
from PIL import Image
module = torch.jit.load(sys.argv[1])
image = np.asarray(Image.open(sys.argv[2]).convert("RGB"))
classes, probs = module(torch.from_numpy(image.copy()))
np.save(sys.argv[3], classes.numpy().astype(np.uint8))
print(",".join(module.classes), tuple(probs.shape), float(probs.sum(0).mean()))
"""


def ready_version(pid: int) -> int:
    """A ready version with untrained weights, a temperature and decision biases (what training stores)."""
    import torch

    from app import storage
    from app.db import session_scope
    from app.learning.model import ModelConfig, UNet, save_checkpoint
    from app.modeling.models import ModelStatus, ModelVersion

    torch.manual_seed(3)
    config = ModelConfig(num_classes=3, base_channels=8)
    relative = f"projects/{pid}/models/v1.pt"
    save_checkpoint(storage.absolute(relative), UNet.from_config(config), config, {})
    with session_scope() as session:
        mv = ModelVersion(project_id=pid, version=1, status=ModelStatus.ready, weights_path=relative,
                          temperature=1.4, metrics={"decision_bias": [0.0, 0.3, -0.2]})
        session.add(mv)
        session.flush()
        return mv.id


def test_the_exported_model_reproduces_the_products_suggestion_in_a_fresh_process(client, env, tmp_path):
    from app.db import session_scope
    from app.items.models import Item
    from app.items.service import load_pixels
    from app.modeling import inference, suggestions
    from app.modeling.models import ModelVersion

    make_user("lead", "lead")
    pid = make_project(owner="lead")
    token = login(client, "lead")
    files = [("files", (f"c{i}.png", png, "image/png")) for i, (png, _) in enumerate(chart_pngs(1, size=48))]
    r = client.post(f"/api/v1/projects/{pid}/items", headers={"X-CSRF-Token": token}, files=files)
    assert r.status_code == 201, r.text
    mv_id = ready_version(pid)
    with session_scope() as session:  # what scoring stores as the item's suggestion
        mv, item = session.get(ModelVersion, mv_id), session.get(Item, 1)
        maps = inference.uncertainty_maps(mv, load_pixels(item))
        suggestions.store(mv, item.id, maps.probs, maps.entropy)
        stored = np.asarray(Image.open(io.BytesIO(
            (env / suggestions.suggestion_path(pid, mv_id, item.id, "mask")).read_bytes())))
        image_path = env / item.storage_path

    r = client.get(f"/api/v1/projects/{pid}/models/{mv_id}/torchscript")
    assert r.status_code == 200 and r.headers["content-type"] == "application/octet-stream"
    assert "v1.torchscript.pt" in r.headers["content-disposition"]
    model_file, out = tmp_path / "model.pt", tmp_path / "classes.npy"
    model_file.write_bytes(r.content)
    done = subprocess.run([sys.executable, "-c", FRESH_PROCESS, str(model_file), str(image_path), str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(",".join(n for n, _ in CLASSES) + " (3, 48, 48)")
    assert abs(float(done.stdout.split()[-1]) - 1.0) < 1e-5  # calibrated probabilities sum to 1
    assert np.array_equal(np.load(out), stored)


def test_only_a_ready_version_of_the_project_is_exported(client, env):
    make_user("lead", "lead")
    pid = make_project(owner="lead")
    other = make_project(name="other", owner="lead")
    mv_id = ready_version(other)
    login(client, "lead")
    assert client.get(f"/api/v1/projects/{pid}/models/{mv_id}/torchscript").status_code == 404
    assert client.get(f"/api/v1/projects/{pid}/models/999/torchscript").status_code == 404
