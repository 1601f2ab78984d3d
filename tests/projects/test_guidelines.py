"""The guidelines' Markdown subset is rendered escaped."""

from __future__ import annotations

from app.projects import guidelines


def test_markdown_subset_is_escaped_and_safe():
    html = str(guidelines.render("Intro **bold** <script>alert(1)</script>\n\n- one <b>x</b>\n- two"))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<strong>bold</strong>" in html
    assert "<ul><li>one &lt;b&gt;x&lt;/b&gt;</li><li>two</li></ul>" in html
