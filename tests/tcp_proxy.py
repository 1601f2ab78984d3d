"""A tiny TCP proxy on loopback (asyncio, in a thread of the test) that a test can cut and restore."""

from __future__ import annotations

import asyncio
import threading
from typing import Literal

from bench.annotators import free_port


class TcpProxy:
    """Forwards 127.0.0.1:`port` to 127.0.0.1:`target_port`.

    cut("refused"): the listener closes, open connections are reset (connect() is refused after).
    cut("reset"): open connections are reset and new ones accepted, then closed at once.
    restore(): forwarding again, on the same port.
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.mode: Literal["open", "refused", "reset"] = "open"
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._call(self._listen())

    def _call(self, coro):  # type: ignore[no-untyped-def]
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=10)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port, reuse_address=True)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.mode != "open":
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update((writer, up_writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (OSError, asyncio.CancelledError):
                pass
            finally:
                dst.transport.abort()
                self._writers.discard(dst)

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def _cut(self, mode: Literal["refused", "reset"]) -> None:
        self.mode = mode
        server, self._server = (self._server, None) if mode == "refused" else (None, self._server)
        if server is not None:
            server.close()
        for w in list(self._writers):
            w.transport.abort()  # RST, not a polite FIN
        self._writers.clear()
        if server is not None:
            await server.wait_closed()

    async def _restore(self) -> None:
        self.mode = "open"
        if self._server is None:
            await self._listen()

    def cut(self, mode: Literal["refused", "reset"] = "refused") -> None:
        self._call(self._cut(mode))

    def restore(self) -> None:
        self._call(self._restore())

    async def _shutdown(self) -> None:
        await self._cut("refused")
        pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for t in pending:
            t.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    def close(self) -> None:
        self._call(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
