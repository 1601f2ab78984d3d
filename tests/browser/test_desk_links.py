"""Every desk page a role works from is reached by following links from "/": a bounded crawl of
same-origin GET links for an admin, a lead and an annotator, in Chromium with the real Content Security
Policy (no bypass), so inline scripts or styles the policy refuses show up as console errors.

Each page must answer 200 with HTML (a redirect is followed and its end page checked), log no console
error, and the set of pages reached must hold the pages the role needs; an annotator must reach none of
the lead/admin pages, and gets a 403/404 page (HTML, not JSON) when typing their addresses."""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import urldefrag, urlsplit

from tests.browser.conftest import ARTIFACTS, screenshot
from tests.dashboards.desk_scene import seed_desk
from tests.factories import make_user

MAX_PAGES = 120
MAX_DEPTH = 4
PER_PATTERN = 2  # /people/2 and /people/3 are the same page: two of each shape is enough
# The labeling page asks for the next task and learns from a 404 that none is left (its JS says so).
DELIBERATE_404 = re.compile(r"/api/v1/projects/\d+/(tasks|validation)/next$")
SKIP = re.compile(r"^/(api/|static/|metrics|healthz|readyz)|\.(csv|zip|json|png|jpg|svg|txt)$|/download|/export")


def desk_pages(pid: int, annotator_id: int) -> dict[str, str]:
    """The pages a lead or admin needs for their daily work, by name (paths from app/*/views.py and
    app/dashboards/*.py)."""
    p = f"/projects/{pid}"
    return {
        "overview": p, "settings": f"{p}/settings", "classes": f"{p}/settings/classes",
        "members": f"{p}/settings/members", "validation split": f"{p}/settings/validation",
        "budget": f"{p}/settings/budget", "burn-down": f"{p}/burndown", "dashboard": f"{p}/dashboard",
        "policy": f"{p}/policy", "model versions": f"{p}/models", "quality/overlap": f"{p}/quality",
        "adjudication": f"{p}/adjudication", "reviews": f"{p}/reviews", "review settings": f"{p}/review-settings",
        "gold": f"{p}/gold", "quality scores": f"{p}/quality-scores", "guidelines": f"{p}/guidelines",
        "import": f"{p}/import", "machine labels": f"{p}/machine-labels",
        "escalations": f"{p}/escalations", "project people": f"{p}/people",
        "annotator record": f"/people/{annotator_id}/record", "account": "/account", "new project": "/projects/new",
    }


ADMIN_ONLY = ("/people", "/audit")


@dataclass
class Crawl:
    visited: dict[str, int] = field(default_factory=dict)  # path?query -> status of the page shown
    problems: list[str] = field(default_factory=list)


def _pattern(path: str) -> str:
    split = urlsplit(path)
    keys = ",".join(sorted(k.split("=")[0] for k in split.query.split("&") if k))
    return re.sub(r"/\d+", "/N", split.path) + "?" + keys


def crawl(page, base: str) -> Crawl:  # type: ignore[no-untyped-def]
    """Breadth-first from "/", GET links only (forms are never submitted, so logout is never reached)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    result = Crawl()
    errors: list[str] = []
    # A failed request is reported by the response listener, which names its address (Chromium's console
    # line "Failed to load resource" does not), unless it is a deliberate answer of the labeling page's.
    page.on("console", lambda msg: errors.append(msg.text)
            if msg.type == "error" and not msg.text.startswith("Failed to load resource") else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("response", lambda r: errors.append(f"{r.status} from {r.url}")
            if r.status >= 400 and not (r.status == 404 and DELIBERATE_404.search(r.url)) else None)
    seen_patterns: dict[str, int] = {}
    queue: deque[tuple[str, int, str]] = deque([("/", 0, "(start)")])
    queued = {"/"}
    while queue and len(result.visited) < MAX_PAGES:
        path, depth, came_from = queue.popleft()
        errors.clear()
        response = page.goto(base + path)
        page.wait_for_load_state("load")
        try:  # let the page's own requests finish here, so a late failure is blamed on this page
            page.wait_for_load_state("networkidle", timeout=5000)
        except PlaywrightTimeout:
            pass  # a page that polls: what it asked for so far is counted
        status = response.status if response else 0
        result.visited[path] = status
        ctype = (response.headers.get("content-type", "") if response else "")
        where = f"{path} (linked from {came_from})"
        if status != 200:
            result.problems.append(f"{where}: status {status}")
        if "text/html" not in ctype:
            result.problems.append(f"{where}: content-type {ctype!r}")
            continue
        final = urlsplit(page.url)
        if final.path.startswith("/login"):
            result.problems.append(f"{where}: redirected to the login page")
        for e in errors:
            result.problems.append(f"{where}: console: {e}")
        if depth >= MAX_DEPTH:
            continue
        hrefs = page.locator("a[href]:not([download])").evaluate_all("els => els.map(e => e.href)")
        for href in hrefs:
            url, _ = urldefrag(href)
            split = urlsplit(url)
            if split.scheme not in ("http", "https") or f"{split.scheme}://{split.netloc}" != base:
                continue
            target = split.path + (f"?{split.query}" if split.query else "")
            if target in queued or SKIP.search(split.path):
                continue
            pattern = _pattern(target)
            if seen_patterns.get(pattern, 0) >= PER_PATTERN:
                continue
            seen_patterns[pattern] = seen_patterns.get(pattern, 0) + 1
            queued.add(target)
            queue.append((target, depth + 1, path))
    return result


def _log_in(browser, base: str, username: str):  # type: ignore[no-untyped-def]
    # No bypass_csp: the crawl must see what the Content Security Policy refuses.
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "password-123")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    return context, page


def _seed() -> tuple[int, int]:
    """The dashboard's scene (three model versions, 20 labels, an escalated task), with an admin who is
    a member of the project (admins see only their projects' pages, like everyone)."""
    from app.auth import service as auth_service
    from app.db import session_scope
    from app.projects import service as project_service
    from app.projects.models import Project

    pid = seed_desk()  # lead "lead" owns the project; "ann" (id 2) and "bob" annotate
    make_user("root", "admin")
    with session_scope() as session:
        root = auth_service.get_by_username(session=session, username="root")
        project = session.get(Project, pid)
        assert root is not None and project is not None
        project_service.add_member(session=session, project=project, user=root)
    return pid, 2


def _write_log(role: str, result: Crawl) -> None:
    """What the crawl saw, for a reader of test-artifacts: each page with its status."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    lines = [f"{status} {path}" for path, status in result.visited.items()]
    (ARTIFACTS / f"crawl-{role}.txt").write_text("\n".join(lines + result.problems) + "\n")


def _reached(result: Crawl) -> set[str]:
    return {urlsplit(p).path for p, status in result.visited.items() if status == 200}


def _shots(page, base: str, role: str, paths: list[str]) -> None:  # type: ignore[no-untyped-def]
    for path in paths:
        page.goto(base + path)
        name = path.strip("/").replace("/", "-") or "home"
        screenshot(page, f"crawl-{role}-{name}")


def test_an_admin_reaches_every_desk_page_by_links(live_server, browser):
    pid, ann = _seed()
    context, page = _log_in(browser, live_server, "root")
    result = crawl(page, live_server)
    _write_log("admin", result)
    assert result.problems == [], "\n".join(result.problems)
    needed = set(desk_pages(pid, ann).values()) | set(ADMIN_ONLY)
    assert needed - _reached(result) == set(), f"not reached by links: {sorted(needed - _reached(result))}"
    _shots(page, live_server, "admin", [f"/projects/{pid}", f"/projects/{pid}/quality", "/people"])
    context.close()


def test_a_lead_reaches_every_desk_page_by_links(live_server, browser):
    pid, ann = _seed()
    context, page = _log_in(browser, live_server, "lead")
    result = crawl(page, live_server)
    _write_log("lead", result)
    assert result.problems == [], "\n".join(result.problems)
    needed = set(desk_pages(pid, ann).values())
    assert needed - _reached(result) == set(), f"not reached by links: {sorted(needed - _reached(result))}"
    assert not set(ADMIN_ONLY) & _reached(result)
    _shots(page, live_server, "lead", [f"/projects/{pid}", f"/projects/{pid}/dashboard", f"/projects/{pid}/settings",
                                       f"/projects/{pid}/models"])
    context.close()


def test_an_annotator_reaches_no_desk_page_and_is_refused_by_typed_urls(live_server, browser):
    pid, ann = _seed()
    context, page = _log_in(browser, live_server, "ann")
    result = crawl(page, live_server)
    _write_log("annotator", result)
    assert result.problems == [], "\n".join(result.problems)
    reached = _reached(result)
    assert f"/projects/{pid}/label" in reached and f"/projects/{pid}/guidelines" in reached
    allowed = {f"/projects/{pid}", f"/projects/{pid}/guidelines", "/account"}
    desk = set(desk_pages(pid, ann).values()) | set(ADMIN_ONLY)
    assert (desk - allowed) & reached == set()
    _shots(page, live_server, "annotator", [f"/projects/{pid}", f"/projects/{pid}/label"])
    # Typed addresses: a refusal page in HTML, never a raw JSON body.
    for path in sorted(desk - allowed - {f"/people/{ann}/record"}):
        response = page.goto(live_server + path)
        assert response is not None and response.status in (403, 404), f"{path}: {response and response.status}"
        assert "text/html" in response.headers.get("content-type", ""), path
        assert page.locator("main").count() == 1, path
    screenshot(page, "crawl-annotator-refused")
    context.close()
