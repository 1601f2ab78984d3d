"""Pagination of every JSON list: `?limit=` (default 50, at most 500: more is cut to 500) and `?cursor=`
(opaque: pass back the `next_cursor` of the page before). Each list answers the same envelope,
`{"items": [...], "next_cursor": "..." | null, "next": "/api/v1/...?cursor=..." | null}`, and sends the
next page's URL in a `Link: <...>; rel="next"` header too; the last page has no `next`.

The cursor holds a position in the list's order (today an offset, base64 so clients do not build one);
a list that changes between two requests may repeat or skip a row at the boundary, as offset paging does.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query, Request, Response
from pydantic import BaseModel

from app.errors import DomainError
from app.schemas import INT32_MAX

DEFAULT_LIMIT = 50
MAX_LIMIT = 500

T = TypeVar("T")
Row = TypeVar("Row")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None
    next: str | None = None  # the next page's URL (path and query), or null on the last page


@dataclass(frozen=True)
class PageParams:
    limit: int
    offset: int
    request: Request

    def fetch(self) -> tuple[int, int]:
        """(offset, limit + 1) to ask the database for: the extra row says whether a next page exists."""
        return self.offset, self.limit + 1


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        kind, _, value = text.partition(":")
        offset = int(value) if kind == "o" and value.isdigit() else -1
    except (binascii.Error, UnicodeDecodeError, ValueError):
        offset = -1
    if not 0 <= offset <= INT32_MAX:
        raise DomainError("cursor: not a cursor this list gave (pass its next_cursor back unchanged)")
    return offset


def page_params(request: Request,
                limit: Annotated[int, Query(ge=1, description=f"rows per page (default {DEFAULT_LIMIT}; "
                                                              f"more than {MAX_LIMIT} is cut to {MAX_LIMIT})")]
                = DEFAULT_LIMIT,
                cursor: Annotated[str | None, Query(max_length=64, description="the next_cursor of the page "
                                                                                "before")] = None) -> PageParams:
    return PageParams(limit=min(limit, MAX_LIMIT), offset=decode_cursor(cursor) if cursor else 0, request=request)


PageQuery = Annotated[PageParams, Depends(page_params)]

P = TypeVar("P", bound=Page)  # type: ignore[type-arg]


def page(kind: type[P], rows: Sequence[Row], params: PageParams, response: Response,
         read: Callable[[Row], object], **extra: object) -> P:
    """The envelope of one page from the rows fetched with `params.fetch()` (one more than the limit when
    a next page exists); sets the Link header."""
    more = len(rows) > params.limit
    return envelope(kind, [read(r) for r in rows[: params.limit]], params.offset + params.limit if more else None,
                     params, response, **extra)


def envelope(kind: type[P], items: list[object], position: int | None, params: PageParams, response: Response,
             **extra: object) -> P:
    """The envelope of items already cut, whose next page starts at `position` (None: the last page). A list
    read by keyset (the audit log, newest first while rows are added) passes its last row's key, and reads
    `params.offset` back as that key."""
    cursor = encode_cursor(position) if position is not None else None
    next_url = None
    if cursor is not None:
        url = params.request.url.include_query_params(cursor=cursor, limit=params.limit)
        next_url = f"{url.path}?{url.query}"
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    return kind(items=items, next_cursor=cursor, next=next_url, **extra)


def page_of_list(kind: type[P], rows: Sequence[Row], params: PageParams, response: Response,
                 read: Callable[[Row], object], **extra: object) -> P:
    """`page` for a list its service already holds whole in memory (short lists: members, error types, open
    breaches...): the same envelope and cursor, cut here instead of in the query."""
    offset, size = params.fetch()
    return page(kind, rows[offset: offset + size], params, response, read, **extra)
