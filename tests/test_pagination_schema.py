"""Pagination on every list (issue 13), checked from the schema: every GET under /api/ whose 200 answer is a
JSON list of records must answer the page envelope `{items, next_cursor, next}` (app/pagination.py). A new
endpoint that returns a bare array, or a home-made wrapper (`{items, total, offset}`, `{items, older}`), fails
here with its path named."""

from __future__ import annotations

from typing import Any

from app.main import create_app

ENVELOPE = {"items", "next_cursor", "next"}
# Words a home-made list wrapper puts beside its one list: an object made of a list and only these is a page.
PAGING_WORDS = {"limit", "offset", "total", "count", "page", "page_size", "per_page", "newer", "older", "before",
                "after", "cursor", "next", "previous", "prev", "has_more", "more"}

# Lists that are not lists of records, each with why it need not page.
ALLOWED = {
    # One burn-down per budget unit (labels, hours: at most two), each a whole chart series; paging would
    # split a chart, and the list cannot grow with the project's data.
    "/api/v1/projects/{project_id}/budget/burndown",
    # The names of the dashboard's charts: a fixed catalogue from the code, not rows of the database.
    "/api/v1/projects/{project_id}/dashboard",
}


def resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    """The schema behind `$ref`s, and the non-null choice of an `X | None`."""
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    options = [s for s in schema.get("anyOf", []) if s.get("type") != "null"]
    return resolve(options[0], spec) if len(options) == 1 else schema


def unpaged(schema: dict[str, Any], spec: dict[str, Any]) -> str | None:
    """Why a 200 answer is a list without the envelope, or None when it is not a list or has the envelope."""
    schema = resolve(schema, spec)
    if schema.get("type") == "array" or any(resolve(s, spec).get("type") == "array" for s in schema.get("anyOf", [])):
        return "a bare JSON array"
    props = schema.get("properties", {})
    lists = {k for k, v in props.items() if resolve(v, spec).get("type") == "array"}
    if not lists or ENVELOPE <= set(props):
        return None
    if "items" in lists or (len(lists) == 1 and set(props) - lists <= PAGING_WORDS):
        return f"a list wrapper {sorted(props)} without next_cursor/next"
    return None  # an object that holds lists (a project's classes, a report's tables), not a list


def list_operations(spec: dict[str, Any]) -> dict[str, str]:
    found = {}
    for path, operations in spec["paths"].items():
        get = operations.get("get")
        if not path.startswith("/api/") or get is None:
            continue
        content = get.get("responses", {}).get("200", {}).get("content", {}).get("application/json")
        why = unpaged(content.get("schema", {}), spec) if content else None
        if why:
            found[path] = why
    return found


def test_every_api_list_answers_the_page_envelope():
    offenders = {p: why for p, why in list_operations(create_app().openapi()).items() if p not in ALLOWED}
    assert not offenders, "lists without the page envelope (use app.pagination's PageQuery, page and Page[...]):\n" \
        + "\n".join(f"  GET {p}: {why}" for p, why in sorted(offenders.items()))


def test_the_allow_list_names_only_lists_that_exist():
    # An allowed path that is gone or now pages would hide the next endpoint reusing its name.
    assert ALLOWED <= set(list_operations(create_app().openapi()))


def test_the_check_sees_arrays_and_home_made_wrappers():
    spec: dict[str, Any] = {"components": {"schemas": {
        "Row": {"type": "object", "properties": {"id": {"type": "integer"}}},
        "Rows": {"type": "array", "items": {"$ref": "#/components/schemas/Row"}}}}}
    rows = {"$ref": "#/components/schemas/Rows"}
    assert unpaged(rows, spec) == "a bare JSON array"
    assert unpaged({"anyOf": [rows, {"type": "null"}]}, spec) == "a bare JSON array"
    assert unpaged({"type": "object", "properties": {"items": rows, "total": {}, "offset": {}}}, spec)
    assert unpaged({"type": "object", "properties": {"entries": rows, "older": {}}}, spec)
    assert unpaged({"type": "object", "properties": {"items": rows, "next_cursor": {}, "next": {}, "x": {}}}, spec) \
        is None
    assert unpaged({"type": "object", "properties": {"classes": rows, "name": {}}}, spec) is None
    assert unpaged({"$ref": "#/components/schemas/Row"}, spec) is None
