"""/docs works offline: Swagger UI from static/vendor renders the schema, and no request leaves the machine."""

from __future__ import annotations

from urllib.parse import urlparse

from tests.browser.conftest import screenshot


def test_api_docs_render_offline(live_server, browser):
    # The real CSP this time (no bypass): the page must work under it.
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    hosts: set[str] = set()
    errors: list[str] = []
    page.on("request", lambda req: hosts.add(urlparse(req.url).netloc))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(f"{live_server}/docs")
        page.wait_for_selector(".swagger-ui .info .title")
        assert "Labelwise" in page.text_content(".swagger-ui .info .title")
        page.wait_for_selector(".opblock-tag")  # the operations, grouped by tag
        assert page.locator(".opblock").count() > 10
        screenshot(page, "api-docs")
    finally:
        context.close()
    assert hosts == {urlparse(live_server).netloc}, hosts
    assert errors == []
