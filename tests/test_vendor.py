"""Vendored front-end files are present, licensed, recorded, and nothing loads from a CDN."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "static" / "vendor"

VENDORED = {
    "htmx": ["htmx.min.js", "LICENSE"],
    "swagger-ui": ["swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE"],
    "uplot": ["uPlot.iife.min.js", "uPlot.min.css", "LICENSE"],
}
PACKAGES = {"htmx": "htmx.org@2.0.11", "swagger-ui": "swagger-ui-dist@5.35.0", "uplot": "uplot@1.6.32"}

# src= / href= (also xlink:href, JS `el.src = "..."`) whose value starts with http://, https:// or //
_ATTR_URL = re.compile(r"""\b(?:src|href|srcset)\s*=\s*(?:["'`]\s*)?((?:https?:)?//[^\s"'`>]*)""", re.I)
# CSS url(...) and @import "..."
_CSS_URL = re.compile(r"""(?:\burl\(\s*["']?|@import\s+["'])\s*((?:https?:)?//[^\s"')]*)""", re.I)


def external_refs(text: str) -> list[str]:
    """External URLs that `text` would make a browser fetch or link to."""
    return [m.group(1) for rx in (_ATTR_URL, _CSS_URL) for m in rx.finditer(text)]


def scan_tree(
    root: Path,
    roots: tuple[str, ...] = ("templates", "static"),
    exclude: tuple[str, ...] = ("static/vendor",),
) -> dict[str, list[str]]:
    """{relative path: external URLs} for every text file under `roots`, skipping `exclude`."""
    found: dict[str, list[str]] = {}
    for top in roots:
        base = root / top
        if not base.is_dir():
            continue
        for path in sorted(p for p in base.rglob("*") if p.is_file()):
            rel = path.relative_to(root).as_posix()
            if any(rel == ex or rel.startswith(ex + "/") for ex in exclude):
                continue
            data = path.read_bytes()
            if b"\0" in data:  # images and other binaries
                continue
            refs = external_refs(data.decode("utf-8", errors="replace"))
            if refs:
                found[rel] = refs
    return found


@pytest.mark.parametrize(("folder", "name"), [(f, n) for f, names in VENDORED.items() for n in names])
def test_vendored_file_present_and_nonempty(folder: str, name: str) -> None:
    path = VENDOR / folder / name
    assert path.is_file(), f"missing {path.relative_to(ROOT)}"
    assert path.stat().st_size > 0, f"empty {path.relative_to(ROOT)}"


def test_licences_are_real_licence_texts() -> None:
    assert "Zero-Clause BSD" in (VENDOR / "htmx" / "LICENSE").read_text()
    assert "Apache License" in (VENDOR / "swagger-ui" / "LICENSE").read_text()
    assert "MIT License" in (VENDOR / "uplot" / "LICENSE").read_text()


def test_versions_match_readme() -> None:
    readme = (VENDOR / "README.md").read_text()
    for pkg in PACKAGES.values():
        assert pkg in readme
    assert 'version:"2.0.11"' in (VENDOR / "htmx" / "htmx.min.js").read_text()


def test_nothing_unlisted_is_vendored() -> None:
    """A library no page loads any more is deleted, not kept."""
    on_disk = {p.relative_to(VENDOR).as_posix() for p in VENDOR.rglob("*") if p.is_file()}
    assert on_disk == {"README.md"} | {f"{f}/{n}" for f, names in VENDORED.items() for n in names}


def test_readme_checksums_match_files() -> None:
    readme = (VENDOR / "README.md").read_text()
    sums = {name: digest for digest, name in re.findall(r"^([0-9a-f]{64})  (\S+)$", readme, re.M)}
    expected = {f"{f}/{n}" for f, names in VENDORED.items() for n in names}
    assert set(sums) == expected
    for name, digest in sums.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name


def test_no_external_urls_in_templates_or_static() -> None:
    assert scan_tree(ROOT) == {}, "load these from static/vendor instead of the network"


# The scanner itself: these must be caught, or the test above proves nothing while templates/ is empty.
@pytest.mark.parametrize(
    "snippet",
    [
        '<script src="https://unpkg.com/htmx.org@2.0.11"></script>',
        "<link rel=stylesheet href='http://cdn.example.com/x.css'>",
        '<script src="//cdn.jsdelivr.net/npm/uplot"></script>',
        "<img src=https://example.com/a.png>",
        '<a HREF = "https://example.com">x</a>',
        '<img srcset="https://example.com/a.png 2x">',
        'el.src = "https://example.com/x.js";',
        "@font-face { src: url(https://fonts.gstatic.com/a.woff2); }",
        '@import "//fonts.googleapis.com/css?family=Inter";',
        '<use xlink:href="https://example.com/icons.svg#x"/>',
    ],
)
def test_scanner_catches_external_reference(snippet: str) -> None:
    assert external_refs(snippet)


@pytest.mark.parametrize(
    "snippet",
    [
        '<script src="/static/vendor/htmx/htmx.min.js"></script>',
        "<link href=\"{{ url_for('static', path='/css/app.css') }}\" rel=stylesheet>",
        '<a href="/projects/{{ project.id }}">open</a>',
        '<svg xmlns="http://www.w3.org/2000/svg"><use href="#icon"/></svg>',
        "background: url(/static/img/grid.png);",
        '<a href="#top">top</a>',
    ],
)
def test_scanner_allows_local_reference(snippet: str) -> None:
    assert external_refs(snippet) == []


def test_scan_tree_flags_violating_file_and_skips_vendor(tmp_path: Path) -> None:
    (tmp_path / "templates" / "projects").mkdir(parents=True)
    (tmp_path / "static" / "vendor" / "lib").mkdir(parents=True)
    (tmp_path / "static" / "css").mkdir(parents=True)
    (tmp_path / "templates" / "projects" / "page.html").write_text(
        '<script src="https://cdn.example.com/x.js"></script>'
    )
    (tmp_path / "templates" / "ok.html").write_text('<script src="/static/vendor/htmx/htmx.min.js"></script>')
    (tmp_path / "static" / "css" / "app.css").write_text("body{background:url(//example.com/a.png)}")
    (tmp_path / "static" / "vendor" / "lib" / "lib.js").write_text('a.href="https://example.com"')
    (tmp_path / "static" / "logo.png").write_bytes(b"\x89PNG\0 src=https://x")
    assert scan_tree(tmp_path) == {
        "static/css/app.css": ["//example.com/a.png"],
        "templates/projects/page.html": ["https://cdn.example.com/x.js"],
    }
