"""A new version of the guidelines gates the next task until the annotator confirms it."""

from __future__ import annotations

from app.db import session_scope
from app.projects import guidelines
from tests.factories import login, make_project, make_user, png_bytes
from tests.scenes import add_items


def _write(pid: int, text: str, author: str = "lead") -> int:
    from app.auth import service as auth_service

    with session_scope() as session:
        lead = auth_service.get_by_username(session=session, username=author)
        assert lead is not None
        return guidelines.save(session=session, project_id=pid, text=text, author_id=lead.id).version


def test_a_new_version_gates_the_next_task_until_confirmed(client, backend):
    make_user("lead", "lead")
    make_user("ann")
    pid = make_project(owner="lead", members=("ann",))
    add_items(pid, 3)
    csrf = login(client, "ann")
    headers = {"X-CSRF-Token": csrf}
    # No guidelines: nothing to confirm.
    first = client.post(f"/api/v1/projects/{pid}/tasks/next", headers=headers)
    assert first.status_code == 200
    client.post(f"/api/v1/projects/{pid}/tasks/{first.json()['id']}/release", headers=headers)

    assert _write(pid, "Trace **every** curve.") == 1
    gated = client.post(f"/api/v1/projects/{pid}/tasks/next", headers=headers)
    assert gated.status_code == 409
    assert gated.json()["code"] == "confirm_guidelines"
    assert "confirm guidelines v1 first" in gated.json()["detail"]
    # The current version is read with its state; an old version cannot be confirmed.
    read = client.get(f"/api/v1/projects/{pid}/guidelines").json()
    assert read["version"] == 1 and read["confirmed"] is False and "<strong>every</strong>" in read["html"]
    assert client.post(f"/api/v1/projects/{pid}/guidelines/confirm", json={"version": 2},
                       headers=headers).status_code == 409
    assert client.post(f"/api/v1/projects/{pid}/guidelines/confirm", json={"version": 1},
                       headers=headers).status_code == 200
    assert client.post(f"/api/v1/projects/{pid}/tasks/next", headers=headers).status_code == 200

    # A second version gates again; the lead who wrote it is not gated.
    assert _write(pid, "Trace every curve; skip the grid.") == 2
    assert client.post(f"/api/v1/projects/{pid}/tasks/next", headers=headers).status_code == 200  # held task
    from app.auth import service as auth_service

    with session_scope() as session:
        ann, lead = (auth_service.get_by_username(session=session, username=n) for n in ("ann", "lead"))
        assert ann is not None and lead is not None
        assert guidelines.unconfirmed_version(session=session, project_id=pid, user_id=ann.id) == 2
        assert guidelines.unconfirmed_version(session=session, project_id=pid, user_id=lead.id) is None


def test_the_labeling_page_shows_the_gate_and_the_guidelines_page_confirms(client):
    make_user("lead", "lead")
    make_user("ann")
    pid = make_project(owner="lead", members=("ann",))
    add_items(pid, 1)
    _write(pid, "Hello <script>x</script>")
    login(client, "ann")
    label = client.get(f"/projects/{pid}/label").text
    assert 'id="guidelines-gate"' in label
    page = client.get(f"/projects/{pid}/guidelines").text
    assert "&lt;script&gt;" in page and "<script>x" not in page
    assert 'data-testid="confirm-guidelines"' in page and "I have read v1" in page
    # A form post without the token is refused; with it, confirmed and back to labeling.
    assert client.post(f"/projects/{pid}/guidelines/confirm", data={"version": "1"}).status_code == 403
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    r = client.post(f"/projects/{pid}/guidelines/confirm", data={"version": "1", "csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/projects/{pid}/label"
    assert 'data-testid="confirm-guidelines"' not in client.get(f"/projects/{pid}/guidelines").text


def test_leads_edit_and_add_examples_annotators_cannot(client):
    import numpy as np

    make_user("lead", "lead")
    make_user("ann")
    pid = make_project(owner="lead", members=("ann",))
    csrf = login(client, "ann")
    assert client.post(f"/api/v1/projects/{pid}/guidelines", json={"text": "x"},
                       headers={"X-CSRF-Token": csrf}).status_code == 403
    csrf = login(client, "lead")
    headers = {"X-CSRF-Token": csrf}
    assert client.post(f"/api/v1/projects/{pid}/guidelines", json={"text": "v1"}, headers=headers).status_code == 201
    image = png_bytes(np.full((8, 12, 3), 200, np.uint8))
    r = client.post(f"/api/v1/projects/{pid}/guidelines/examples", headers=headers,
                    files={"image": ("a.png", image, "image/png")}, data={"caption": "a thin curve"})
    assert r.status_code == 201, r.text
    assert r.json()["width"] == 12 and r.json()["caption"] == "a thin curve"
    assert client.get(r.json()["image_url"]).headers["content-type"] == "image/png"
    bad = client.post(f"/api/v1/projects/{pid}/guidelines/examples", headers=headers,
                      files={"image": ("a.png", b"not an image", "image/png")})
    assert bad.status_code == 422 and bad.json()["detail"].startswith("image:")
    # A new version keeps the examples; the page shows them.
    assert client.post(f"/api/v1/projects/{pid}/guidelines", json={"text": "v2"}, headers=headers).json()[
        "examples"][0]["caption"] == "a thin curve"
    assert "a thin curve" in client.get(f"/projects/{pid}/guidelines").text
    # Non-members: 404.
    make_user("other", "lead")
    login(client, "other")
    assert client.get(f"/api/v1/projects/{pid}/guidelines").status_code == 404
