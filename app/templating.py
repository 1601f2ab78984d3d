from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from app.security import csrf_token

ROOT = Path(__file__).resolve().parent.parent
templates = Jinja2Templates(directory=str(ROOT / "templates"))  # autoescape is on for .html


def plural(count: int, word: str) -> str:
    """The word for `count` of it: {{ n|plural("label") }} -> label or labels (regular plurals only)."""
    return word if count == 1 else f"{word}s"


templates.env.filters["plural"] = plural


def render(request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200) -> HTMLResponse:
    ctx = {"csrf_token": csrf_token(request), "user": None, **(context or {})}
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)
