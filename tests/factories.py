"""Row and file factories for tests."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

CLASSES = [("background", "#202020"), ("curve-1", "#e6194b"), ("curve-2", "#1f77d4")]


def make_user(username: str, role: str = "annotator", password: str = "password-123") -> int:
    from app.auth import service
    from app.auth.models import Role
    from app.db import session_scope

    with session_scope() as session:
        return service.create_user(session=session, username=username, password=password, role=Role(role)).id


def make_project(name: str = "p", owner: str = "lead", members: tuple[str, ...] = (), retrain_every: int = 3) -> int:
    from app.auth import service as auth_service
    from app.db import session_scope
    from app.projects import service

    with session_scope() as session:
        lead = auth_service.get_by_username(session=session, username=owner)
        assert lead is not None
        project = service.create(session=session, name=name, classes=CLASSES, creator=lead,
                                 retrain_every=retrain_every)
        for m in members:
            user = auth_service.get_by_username(session=session, username=m)
            assert user is not None
            service.add_member(session=session, project=project, user=user)
        return project.id


def png_bytes(array: np.ndarray, mode: str | None = None) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array, mode=mode).save(buf, format="PNG")
    return buf.getvalue()


def chart_pngs(n: int, size: int = 64, seed: int = 3) -> list[tuple[bytes, np.ndarray]]:
    from app.learning.welllog import generate_dataset

    return [(png_bytes(img), mask) for img, mask in generate_dataset(n, seed=seed, size=size)]


def login(client, username: str, password: str = "password-123") -> str:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return str(r.json()["csrf_token"])
