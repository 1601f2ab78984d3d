"""Pages that are not a domain's: the API docs (served offline from static/vendor) and error pages.

A request for a page (not under /api/ and not a static file) that fails gets an HTML page with the
message and a way back; the JSON API keeps its JSON errors.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app.templating import render

router = APIRouter(include_in_schema=False)

# Swagger UI sets style attributes from script; the docs page alone allows inline styles (never scripts).
DOCS_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
            "frame-ancestors 'none'")

TITLES = {400: "Bad request", 401: "Please log in", 403: "Not allowed", 404: "Not found", 409: "Conflict",
          413: "Too large", 415: "Unsupported", 422: "Cannot do that", 429: "Too many attempts",
          500: "Something went wrong", 503: "Busy"}


@router.get("/docs")
def api_docs(request: Request) -> Response:
    response = render(request, "api_docs.html", {"openapi_url": request.app.openapi_url})
    response.headers["Content-Security-Policy"] = DOCS_CSP
    return response


def wants_page(request: Request) -> bool:
    """A browser's page request, not the JSON API (nor a static file or an HTMX fragment)."""
    path = request.url.path
    if path.startswith(("/api/", "/static/")) or request.headers.get("HX-Request") == "true":
        return False
    return "text/html" in request.headers.get("accept", "")


def error_page(request: Request, status: int, message: str, headers: dict[str, str] | None = None) -> HTMLResponse:
    project = request.path_params.get("project_id")
    back_url, back_text = (f"/projects/{project}", "Back to the project") if project and status != 404 else (
        "/", "Back to your projects")
    response = render(request, "error.html", {
        "title": TITLES.get(status, "Error"), "message": message, "back_url": back_url, "back_text": back_text,
        "user": None}, status_code=status)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response
