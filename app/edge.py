"""Input a database cannot hold, refused at the edge for every route (a pure ASGI middleware; create_app
installs it inside app/limits.py, which bounds what is read here).

- Text: NUL characters (Postgres cannot store them) and lone surrogates (not Unicode: no driver, hash or
  encoder can write them) in the path, the query, a JSON body (keys and strings), an urlencoded form, or a
  multipart form's field names, file names and values -> 422, saying where.
- Numbers in the URL: a path segment that reads as an integer outside 1..2**31-1, or a query value that
  reads as an integer outside the signed 32-bit range, names nothing a row can have -> 404, as an id that
  does not exist does. ("Reads as" is pydantic's reading, the one FastAPI applies: "5_000" and "5.0" count.)
- Numbers in a JSON body outside the signed 32-bit range, and NaN or Infinity -> 422.

JSON and urlencoded bodies are read here whole (at most `max_request_bytes`) and handed on unchanged;
multipart bodies are checked while they stream through, so files are never held here. Bodies this cannot
parse are passed on for the app to refuse in its own words.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

from pydantic import TypeAdapter, ValidationError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import Settings
from app.limits import BodyTooLarge
from app.schemas import INT32_MAX, INT32_MIN

_SURROGATE = re.compile("[\ud800-\udfff]")
_INT = TypeAdapter(int)
_MAX_FIELD = 1024 * 1024  # Starlette refuses bigger non-file parts itself


class Refused(HTTPException):
    """Input refused at the edge. An HTTPException, so that one raised from `receive` while FastAPI
    parses a multipart body reaches the app's handler as it is."""

    def __init__(self, status: int, detail: str):
        super().__init__(status_code=status, detail=detail)


def text_problem(value: str) -> str | None:
    if "\x00" in value:
        return "a NUL character"
    if _SURROGATE.search(value):
        return "a lone surrogate (not valid Unicode)"
    return None


def check_text(value: str, where: str) -> None:
    problem = text_problem(value)
    if problem is not None:
        raise Refused(422, f"{where} holds {problem}; nothing was saved")


def _as_int(value: str) -> int | None:
    try:
        return _INT.validate_python(value)
    except (ValidationError, ValueError):
        return None


def check_url(path: str, query_string: bytes) -> None:
    check_text(path, "the path")
    for segment in path.split("/"):
        number = _as_int(segment) if segment else None
        if number is not None and not 1 <= number <= INT32_MAX:
            raise Refused(404, f"not found: no row has the id {segment[:40]!r}")
    for key, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        check_text(key, "a query parameter's name")
        check_text(value, f"the query parameter {key[:40]!r}")
        number = _as_int(value)
        if number is not None and not INT32_MIN <= number <= INT32_MAX:
            raise Refused(404, f"not found: the query parameter {key[:40]!r} is out of range")


def _refuse_constant(name: str) -> Any:
    raise Refused(422, f"the JSON body holds {name}, which is not a number a database can store")


def check_json(body: bytes) -> None:
    try:
        data = json.loads(body, parse_constant=_refuse_constant)
    except Refused:
        raise
    except (ValueError, RecursionError):
        return  # not JSON this can read: the app answers in its own words
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        value, where = stack.pop()
        if isinstance(value, str):
            check_text(value, f"the JSON body at {where or '/'}")
        elif isinstance(value, bool) or value is None or isinstance(value, float):
            continue
        elif isinstance(value, int):
            if not INT32_MIN <= value <= INT32_MAX:
                raise Refused(422, f"the number at {where or '/'} of the JSON body is out of range "
                                   f"({INT32_MIN}..{INT32_MAX})")
        elif isinstance(value, dict):
            for key, item in value.items():
                check_text(key, f"a key of the JSON body at {where or '/'}")
                stack.append((item, f"{where}/{key[:40]}"))
        elif isinstance(value, list):
            stack.extend((item, f"{where}/{i}") for i, item in enumerate(value))


def check_urlencoded(body: bytes) -> None:
    for key, value in parse_qsl(body.decode("latin-1"), keep_blank_values=True):
        check_text(key, "a form field's name")
        check_text(value, f"the form field {key[:40]!r}")


def _decode(raw: bytes | bytearray) -> str:
    """As Starlette decodes multipart names and values: UTF-8, else Latin-1."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


class MultipartCheck:
    """Checks field names, file names and non-file values of a multipart body fed to it chunk by chunk;
    file contents pass through unread. Malformed input stops the checking (Starlette then refuses it)."""

    def __init__(self, content_type: str):
        _, params = parse_options_header(content_type)
        boundary = params.get(b"boundary")
        self.parser: MultipartParser | None = None
        if boundary:
            self.parser = MultipartParser(boundary, {
                "on_part_begin": self._begin, "on_header_field": self._header_field,
                "on_header_value": self._header_value, "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished, "on_part_data": self._data,
                "on_part_end": self._end,
            })
        self._begin()

    def _begin(self) -> None:
        self.header_name, self.header_value = b"", b""
        self.disposition = b""
        self.field = ""
        self.is_file = False
        self.value = bytearray()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_name += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def _header_end(self) -> None:
        if self.header_name.lower() == b"content-disposition":
            self.disposition = self.header_value
        self.header_name, self.header_value = b"", b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self.disposition)
        self.field = _decode(options.get(b"name", b""))
        check_text(self.field, "a form field's name")
        if b"filename" in options:
            self.is_file = True
            check_text(_decode(options[b"filename"]), f"the file name in the form field {self.field[:40]!r}")

    def _data(self, data: bytes, start: int, end: int) -> None:
        if not self.is_file and len(self.value) <= _MAX_FIELD:
            self.value += data[start:end]

    def _end(self) -> None:
        if not self.is_file:
            check_text(_decode(self.value), f"the form field {self.field[:40]!r}")

    def feed(self, chunk: bytes) -> None:
        if self.parser is None or not chunk:
            return
        try:
            self.parser.write(chunk)
        except Refused:
            raise
        except Exception:
            self.parser = None


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _is_json(media_type: str) -> bool:
    return media_type in ("", "application/json") or (media_type.startswith("application/")
                                                      and media_type.endswith("+json"))


class EdgeGuard:
    def __init__(self, app: ASGIApp, *, settings: Settings):
        self.app = app
        self.max_text_body = settings.max_request_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            check_url(scope["path"], scope.get("query_string", b""))
            content_type = Headers(scope=scope).get("content-type", "")
            media_type = _media_type(content_type)
            if media_type == "multipart/form-data":
                receive = self._checked_stream(receive, MultipartCheck(content_type))
            elif _is_json(media_type) or media_type == "application/x-www-form-urlencoded":
                body = await self._read(receive)
                if body:
                    (check_json if _is_json(media_type) else check_urlencoded)(body)
                receive = self._replay(body, receive)
        except Refused as exc:
            await self.refuse(exc, scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Refused as exc:  # from a multipart stream read outside FastAPI's handlers
            if started:
                raise
            await self.refuse(exc, scope, receive, send)

    @staticmethod
    async def refuse(exc: Refused, scope: Scope, receive: Receive, send: Send) -> None:
        await JSONResponse({"detail": exc.detail}, status_code=exc.status_code)(scope, receive, send)

    async def _read(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_text_body:
                raise BodyTooLarge(self.max_text_body)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    @staticmethod
    def _replay(body: bytes, receive: Receive) -> Receive:
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        return replay

    @staticmethod
    def _checked_stream(receive: Receive, check: MultipartCheck) -> Receive:
        async def checked() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                check.feed(message.get("body", b""))
            return message

        return checked
