"""A TCP proxy in front of PostgreSQL that can play "the database is down".

    proxy = TcpProxy("127.0.0.1", 5432)      # listens on proxy.port (loopback), in a thread
    proxy.cut()                              # every connection closed, new ones refused
    proxy.restore()                          # accepting again, on the same port
    proxy.close()

While cut, the listening socket is closed, so a client's connect is refused at once (as when the
server is stopped), and every open connection is aborted on both sides (the client sees "server
closed the connection unexpectedly"; the server rolls back what was under way).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any

import common


class TcpProxy:
    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = common.free_port()
        self.connections = 0  # accepted since the start
        self._transports: set[asyncio.WriteTransport] = set()
        self._server: asyncio.Server | None = None
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.restore()

    def _call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(30)

    def restore(self) -> None:
        self._call(self._listen())

    def cut(self) -> int:
        """Close everything; returns how many open connections were cut."""
        return int(self._call(self._cut()))

    def close(self) -> None:
        self.cut()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)

    async def _listen(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def _cut(self) -> int:
        if self._server is not None:
            self._server.close()
            self._server = None
        open_pairs = len(self._transports) // 2
        for transport in list(self._transports):
            transport.abort()
        self._transports.clear()
        return open_pairs

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        pair = {writer.transport, up_writer.transport}
        self._transports |= pair
        try:
            await asyncio.gather(_pump(reader, up_writer), _pump(up_reader, writer))
        finally:
            self._transports -= pair
            for transport in pair:
                transport.abort()


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, asyncio.IncompleteReadError):
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    with contextlib.suppress(OSError):
        writer.transport.abort()
