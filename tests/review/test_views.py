"""The quality-control pages: who sees them, forms with their CSRF field, refusals shown on the page."""

from __future__ import annotations

import re

from tests.factories import make_user
from tests.review.scene import Scene, make_scene, mask_with, user_client

HTML = {"Accept": "text/html"}


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


def _pages(s: Scene) -> list[str]:
    return [f"/projects/{s.pid}/{p}" for p in ("reviews", "review-settings", "gold", "quality-scores")]


def test_leads_reach_every_page_from_the_overview_and_annotators_none(env):
    s = make_scene(review_share=1.0)
    overview = s.lead.get(f"/projects/{s.pid}", headers=HTML).text
    for url in _pages(s):
        assert f'href="{url}"' in overview
        r = s.lead.get(url, headers=HTML)
        assert r.status_code == 200, (url, r.text[:300])
        assert s.annotators["ann1"].get(url, headers=HTML).status_code == 403
    assert "/reviews" not in s.annotators["ann1"].get(f"/projects/{s.pid}", headers=HTML).text
    # Not a member: 404, as on every project route.
    from app.main import create_app

    make_user("outsider", "lead")
    outsider = user_client(create_app(), "outsider")
    assert outsider.get(_pages(s)[0], headers=HTML).status_code == 404


def test_the_quality_pages_link_each_other_once_through_the_desk_nav(env):
    """One source of the quality links (projects/_desk_nav.html): every page has them all in the desk nav
    and no second copy of the group in its body (a body may still point at one page, e.g. "change")."""
    s = make_scene(review_share=1.0)
    for url in _pages(s):
        page = s.lead.get(url, headers=HTML).text
        start = page.index('data-testid="desk-nav"')
        nav, body = page[start:page.index("</nav>", start)], page[page.index("</nav>", start):]
        for other in _pages(s):
            assert nav.count(f'href="{other}"') == 1, (url, other)
        assert sum(f'href="{other}"' in body for other in _pages(s)) <= 1, url


def test_review_page_forms_accept_reject_and_show_refusals(env):
    s = make_scene(review_share=1.0)
    tasks = []
    for name in ("ann1", "ann2"):
        task = s.next(name)
        s.submit(name, task["id"], mask_with(1, slice(3, 6)))
        tasks.append(task["id"])
    queue = s.lead.get(f"/projects/{s.pid}/reviews", headers=HTML).text
    ids = [int(i) for i in re.findall(rf'href="/projects/{s.pid}/reviews/(\d+)"', queue)]
    first, second = sorted(set(ids))
    page = s.lead.get(f"/projects/{s.pid}/reviews/{first}", headers=HTML).text
    assert 'data-testid="review-canvas"' in page and "/static/js/review/viewer.js" in page
    token = _csrf(page)

    # Without the CSRF field the form is refused.
    assert s.lead.client.post(f"/projects/{s.pid}/reviews/{first}/accept").status_code == 403
    r = s.lead.client.post(f"/projects/{s.pid}/reviews/{first}/accept", data={"csrf_token": token},
                           follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/projects/{s.pid}/reviews/{second}"

    type_id = re.search(r'<option value="(\d+)">wrong class</option>', page)
    assert type_id
    bad = s.lead.client.post(f"/projects/{s.pid}/reviews/{second}/reject", headers=HTML,
                             data={"csrf_token": token, "error_type_id": type_id.group(1), "class_index": "9"})
    assert bad.status_code == 422 and "class_index" in bad.text and 'data-testid="review-error"' in bad.text
    ok = s.lead.client.post(f"/projects/{s.pid}/reviews/{second}/reject", follow_redirects=False,
                            data={"csrf_token": token, "error_type_id": type_id.group(1), "class_index": "1",
                                  "note": "<b>edge</b>"})
    assert ok.status_code == 303 and ok.headers["location"] == f"/projects/{s.pid}/reviews"
    queue = s.lead.get(f"/projects/{s.pid}/reviews", headers=HTML).text
    assert "&lt;b&gt;edge&lt;/b&gt;" in queue and "<b>edge</b>" not in queue  # user text escaped
    assert 'data-testid="heat-1"' in queue and 'class="heat-5"' in queue


def test_settings_and_taxonomy_forms(env):
    s = make_scene()
    url = f"/projects/{s.pid}/review-settings"
    token = _csrf(s.lead.get(url, headers=HTML).text)
    bad = s.lead.client.post(url, headers=HTML, data={"csrf_token": token, "review_share": "0.2", "gold_rate": "3"})
    assert bad.status_code == 422 and "gold_rate must be between 0 and 1" in bad.text
    word = s.lead.client.post(url, headers=HTML, data={"csrf_token": token, "review_share": "x", "gold_rate": "0"})
    assert word.status_code == 422 and "review_share must be a number" in word.text
    assert s.lead.get(f"/api/v1/projects/{s.pid}/quality-settings").json() == {"review_share": 0.0, "gold_rate": 0.0}
    ok = s.lead.client.post(url, data={"csrf_token": token, "review_share": "0.25", "gold_rate": "0.1"},
                            follow_redirects=False)
    assert ok.status_code == 303
    assert s.lead.get(f"/api/v1/projects/{s.pid}/quality-settings").json() == {"review_share": 0.25, "gold_rate": 0.1}
    added = s.lead.client.post(f"/projects/{s.pid}/error-types", data={"csrf_token": token, "name": "tick marks"},
                               follow_redirects=False)
    assert added.status_code == 303
    assert "tick marks" in s.lead.get(url, headers=HTML).text
    dup = s.lead.client.post(f"/projects/{s.pid}/error-types", headers=HTML,
                             data={"csrf_token": token, "name": "Tick Marks"})
    assert dup.status_code == 409 and "exists already" in dup.text
