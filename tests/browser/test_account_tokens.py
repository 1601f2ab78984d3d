"""The account page in Chromium: reached from the top bar, a token made, shown once, working, revoked."""

from __future__ import annotations

from tests.browser.conftest import log_in, screenshot
from tests.factories import make_user


def test_a_token_is_made_shown_once_and_revoked_in_the_browser(live_server, page):
    make_user("ann")
    log_in(page, live_server, "ann")
    page.click("header a.who")
    page.wait_for_url(f"{live_server}/account")
    assert "No tokens yet" in (page.text_content("#api-tokens") or "")
    page.fill("#api-tokens input[name=name]", "nightly export")
    page.click("#api-tokens button[type=submit]")
    page.wait_for_selector("#new-token")
    token = page.input_value("#new-token")
    assert token.startswith("lw_")
    screenshot(page, "account-token-created")
    answer = page.request.get(f"{live_server}/api/v1/projects", headers={"Authorization": f"Bearer {token}"})
    assert answer.status == 200
    page.goto(f"{live_server}/account")
    assert page.locator("#new-token").count() == 0 and token not in page.content()  # shown once
    assert "nightly export" in (page.text_content("table.tokens") or "")
    page.click("table.tokens button.danger")
    page.wait_for_selector("table.tokens td:has-text('revoked')")
    screenshot(page, "account-token-revoked")
    answer = page.request.get(f"{live_server}/api/v1/projects", headers={"Authorization": f"Bearer {token}"})
    assert answer.status == 401
    assert page.js_errors == []
