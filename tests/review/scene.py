"""A project with a lead and annotators, each with their own API client, for review and gold tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from fastapi.testclient import TestClient

from tests.factories import login, make_project, make_user, png_bytes
from tests.scenes import add_items

SIZE = 16  # tests.scenes.add_items makes 16x16 images


@dataclass
class User:
    name: str
    client: TestClient
    csrf: str

    def post(self, url: str, **kw: Any) -> Any:
        return self.client.post(url, headers={"X-CSRF-Token": self.csrf}, **kw)

    def put(self, url: str, **kw: Any) -> Any:
        return self.client.put(url, headers={"X-CSRF-Token": self.csrf}, **kw)

    def patch(self, url: str, **kw: Any) -> Any:
        return self.client.patch(url, headers={"X-CSRF-Token": self.csrf}, **kw)

    def get(self, url: str, **kw: Any) -> Any:
        return self.client.get(url, **kw)


@dataclass
class Scene:
    pid: int
    lead: User
    annotators: dict[str, User] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"/api/v1/projects/{self.pid}"

    def next(self, name: str) -> dict[str, Any]:
        r = self.annotators[name].post(f"{self.base}/tasks/next")
        assert r.status_code == 200, r.text
        return dict(r.json())

    def submit(self, name: str, task_id: int, mask: np.ndarray) -> dict[str, Any]:
        r = self.annotators[name].post(f"{self.base}/tasks/{task_id}/annotations",
                                       files={"mask": ("m.png", png_bytes(mask), "image/png")})
        assert r.status_code == 201, r.text
        return dict(r.json())


def user_client(app: Any, name: str) -> User:
    client = TestClient(app)
    return User(name, client, login(client, name))


def make_scene(annotators: tuple[str, ...] = ("ann1", "ann2"), items: int = 3, review_share: float = 0.0,
               gold_rate: float = 0.0) -> Scene:
    from app.main import create_app

    make_user("lead", "lead")
    for name in annotators:
        make_user(name)
    pid = make_project(owner="lead", members=annotators, retrain_every=1000)
    add_items(pid, items)
    app = create_app()
    scene = Scene(pid=pid, lead=user_client(app, "lead"))
    for name in annotators:
        scene.annotators[name] = user_client(app, name)
    r = scene.lead.put(f"{scene.base}/quality-settings", json={"review_share": review_share, "gold_rate": gold_rate})
    assert r.status_code == 200, r.text
    return scene


def mask_with(cls: int, rows: slice = slice(0, SIZE), background: int = 0) -> np.ndarray:
    """A 16x16 mask: `background` everywhere, `cls` on `rows`."""
    mask = np.full((SIZE, SIZE), background, dtype=np.uint8)
    mask[rows, :] = cls
    return mask
