"""Drive the ASGI app with a body produced lazily, chunk by chunk, and count how much of it the app pulled.

TestClient reads a request body whole before the app sees it, so a 600 MB body would sit in the test's
memory; this feeds the app one chunk per `receive()` instead.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

MIB = 1024 * 1024


@dataclass
class Answer:
    status: int
    body: bytes
    pulled: int  # body bytes the app took from the client
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body)


def chunks(total: int, size: int = MIB, fill: bytes = b"x") -> Iterator[bytes]:
    """`total` bytes in chunks, made on demand (one chunk object reused)."""
    block = fill * size
    sent = 0
    while sent < total:
        n = min(size, total - sent)
        yield block if n == size else block[:n]
        sent += n


def multipart_chunks(boundary: str, field: str, filename: str, total: int) -> Iterator[bytes]:
    """A multipart body of one file part of `total` junk bytes, made on demand."""
    yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\n"
           f"Content-Type: image/png\r\n\r\n").encode()
    yield from chunks(total)
    yield f"\r\n--{boundary}--\r\n".encode()


def call(app: Any, method: str, path: str, headers: dict[str, str], body: Iterator[bytes]) -> Answer:
    """On a thread of its own with its own event loop: a test earlier in the session may have left one
    running on this thread (asyncio.run would refuse)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, _call(app, method, path, headers, body)).result()


async def _call(app: Any, method: str, path: str, headers: dict[str, str], body: Iterator[bytes]) -> Answer:
    pulled = 0
    finished = False
    response_done = asyncio.Event()
    status = 0
    out_headers: dict[str, str] = {}
    parts: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled, finished
        if finished:
            await response_done.wait()
            return {"type": "http.disconnect"}
        chunk = next(body, None)
        if chunk is None:
            finished = True
            return {"type": "http.request", "body": b"", "more_body": False}
        pulled += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            out_headers.update({k.decode(): v.decode() for k, v in message.get("headers", [])})
        elif message["type"] == "http.response.body":
            parts.append(message.get("body", b""))
            if not message.get("more_body", False):
                response_done.set()

    path_only, _, query = path.partition("?")
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": path_only, "raw_path": path_only.encode(), "query_string": query.encode(), "root_path": "",
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
    }
    await app(scope, receive, send)
    return Answer(status=status, body=b"".join(parts), pulled=pulled, headers=out_headers)


def rss_bytes(kind: str = "VmRSS") -> int:
    """This process's resident memory (VmRSS) or its peak since the last reset_peak() (VmHWM)."""
    with open("/proc/self/status") as f:
        match = re.search(rf"^{kind}:\s+(\d+) kB", f.read(), re.M)
    assert match
    return int(match.group(1)) * 1024


def reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False where that is not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def dir_size(path: str) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(root, name))
            except OSError:
                pass
    return total
