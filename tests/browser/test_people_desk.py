"""The admin's people desk in a browser: add a user, set their role, deactivate them, find it in the audit
log; an annotator's record draws its throughput chart under the real Content Security Policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.browser.conftest import log_in, screenshot
from tests.factories import make_project, make_user
from tests.people.conftest import add_labels, add_skip_and_flag, worked_project


def test_admin_adds_a_user_sets_the_role_deactivates_and_sees_the_audit_entry(live_server, page):
    make_user("root", "admin")
    make_user("lead", "lead")
    make_project(name="roads", owner="lead")
    log_in(page, live_server, "root")
    page.click("nav.sitenav >> text=People")
    page.wait_for_url(f"{live_server}/people")
    page.click("details.people-create summary")
    page.fill("[data-testid=create-user] input[name=username]", "maria")
    page.select_option("[data-testid=create-user] select[name=role]", "annotator")
    page.click("[data-testid=create-user] button[type=submit]")
    secret = page.text_content("[data-testid=generated-password] code")
    assert secret and len(secret) >= 10
    screenshot(page, "people-created-with-generated-password")

    page.select_option("[data-testid=set-role] select[name=role]", "lead")
    page.click("[data-testid=set-role] button[type=submit]")
    assert page.text_content("[data-testid=notice]") == "Role changed."
    page.select_option("[data-testid=add-project] select[name=project_id]", label="roads")
    page.click("[data-testid=add-project] button[type=submit]")
    assert page.locator("#memberships tr[data-project=roads]").count() == 1
    page.click("[data-testid=deactivate] button[type=submit]")
    assert "cannot log in" in page.text_content("[data-testid=notice]")
    assert "deactivated" in page.text_content("h1")
    screenshot(page, "people-user-deactivated")

    page.click("nav.sitenav >> text=People")
    page.select_option("[data-testid=people-filters] select[name=active]", "no")
    page.click("[data-testid=people-filters] button[type=submit]")
    page.wait_for_url("**/people?*active=no*")
    assert page.locator("#people tbody tr[data-username]").evaluate_all(
        "rows => rows.map(r => r.dataset.username)") == ["maria"]
    screenshot(page, "people-list-deactivated-filter")

    # A refusal: the last admin cannot demote themselves; the page says why.
    page.goto(f"{live_server}/people?role=admin")
    page.click("#people >> text=root")
    page.select_option("[data-testid=set-role] select[name=role]", "annotator")
    page.click("[data-testid=set-role] button[type=submit]")
    assert "last active admin" in page.text_content("[data-testid=people-error]")
    screenshot(page, "people-last-admin-refused")

    page.goto(f"{live_server}/people?name=maria")
    page.click("#people >> text=maria")
    page.click("text=Changes to this user")
    page.wait_for_selector("#audit tr[data-action='user.deactivate']")
    actions = page.locator("#audit tbody tr").evaluate_all("rows => rows.map(r => r.dataset.action)")
    assert actions == ["user.deactivate", "membership.add", "user.set_role", "user.create"]
    assert "root" in page.text_content("#audit tr[data-action='user.deactivate']")
    screenshot(page, "audit-log-user-changes")
    # The refusal's 409 is logged by Chromium as a failed load; nothing else may be.
    assert [e for e in page.js_errors if "status of 409" not in e] == []  # type: ignore[attr-defined]

    # maria cannot log in with the password she was given.
    page.context.clear_cookies()
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", "maria")
    page.fill("input[name=password]", secret)
    page.click("button[type=submit]")
    assert "Wrong username or password" in page.text_content(".error")


def test_annotator_record_draws_its_chart_under_the_real_csp(live_server, browser):
    now = datetime.now(UTC)
    make_user("root", "admin")
    pid = worked_project(tasks=12)
    add_labels(pid, "ann", [(now - timedelta(days=d % 6, hours=1), 8.0 + 3 * d) for d in range(10)])
    add_skip_and_flag(pid, "ann", reason="cannot tell the curves apart", note="is a dashed line curve-1?")
    context = browser.new_context(viewport={"width": 1366, "height": 1100})  # no CSP bypass
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    try:
        log_in(page, live_server, "root")
        page.goto(f"{live_server}/people?name=ann")
        page.click("#people >> text=labels, time, skips")
        page.wait_for_selector("#throughput-chart canvas")
        assert page.text_content("[data-testid=labels]") == "10"
        assert "No gold tasks yet." in page.text_content("[data-testid=section-gold]")
        assert "cannot tell the curves apart" in page.text_content("#recent-skips")
        screenshot(page, "annotator-record")
    finally:
        context.close()
    assert errors == []


def test_a_lead_reads_the_quality_sections_from_the_project_people_page(live_server, page):
    from tests.people.conftest import add_quality_evidence

    pid = worked_project(tasks=10)
    add_quality_evidence(pid)
    log_in(page, live_server, "lead")
    page.goto(f"{live_server}/projects/{pid}")
    page.click("[data-testid=desk-people]")  # the project desk nav
    page.click("#project-people tr[data-username=ann] >> text=record")
    page.wait_for_selector("[data-testid=section-review] dl.facts")
    assert "50%" in page.text_content("[data-testid=section-review]")
    assert "cy (0.300)" in page.text_content("[data-testid=section-agreement]")
    assert "0.800" in page.text_content("[data-testid=section-gold]")
    assert page.locator("nav.sitenav >> text=People").count() == 0  # a lead has no people desk
    page.locator("[data-testid=section-gold]").scroll_into_view_if_needed()
    screenshot(page, "annotator-record-quality-as-lead")
    assert page.js_errors == []  # type: ignore[attr-defined]
