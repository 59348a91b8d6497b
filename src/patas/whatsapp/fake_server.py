"""A lean HTTP/1.1 server for the fake Cloud API that stamps each request with its arrival.

Meta counts a number's requests per second when they reach it. The fake used to run under
uvicorn and stamp a send when its handler ran, after any wait inside the fake itself: when the
fake stalled (a garbage collection, the scheduler of a busy machine), requests that had arrived
evenly were stamped in a bunch, and the fake counted more in one second than any sender had
sent. This server reads each socket with `recvmsg` and asks the kernel for the moment the data
was received (SO_TIMESTAMPNS, Linux): the request's arrival, however late the fake reads it.
Elsewhere (no kernel stamps) it stamps the moment it reads, which is still earlier than the
handler.

Each connection carries one request at a time, as clients do (no pipelining is needed, but a
pipelined request is answered after the one before it). The send API is answered inline, in
the read callback; other endpoints (templates, control, inbound) run `FakeCloudAPI.dispatch`.
It also costs less CPU per request than uvicorn + h11.

    asyncio.run(FakeServer(app, "127.0.0.1", 8099).serve())
"""

from __future__ import annotations

import asyncio
import functools
import gc
import json
import socket
import struct
import sys
import time
from typing import Any
from urllib.parse import parse_qs

from patas.whatsapp.fake import Answer, FakeCloudAPI

# The constant is missing from Python's socket module; 35 on Linux (SO_TIMESTAMPNS_OLD).
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
STAMP = struct.Struct("qq")  # struct timespec on 64-bit Linux
ANCILLARY = socket.CMSG_SPACE(STAMP.size)
READ_SIZE = 65536
MAX_HEAD = 65536
MAX_BODY = 4 * 1024 * 1024
FREEZE_EVERY = 1.0  # seconds, see _freeze_record
REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 500: "Error"}


class BadRequest(Exception):
    pass


class _Connection:
    __slots__ = ("sock", "buffer", "arrived", "busy", "pending_out", "close_after")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""
        self.arrived: float | None = None  # when the request under way began to arrive
        self.busy = False  # a request is being answered (an async endpoint)
        self.pending_out = b""
        self.close_after = False


class FakeServer:
    def __init__(self, app: FakeCloudAPI, host: str = "127.0.0.1", port: int = 8099) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.kernel_stamps = False
        self.connections: set[_Connection] = set()

    async def serve(self) -> None:
        """Serve until cancelled."""
        self.loop = asyncio.get_running_loop()
        listener = socket.create_server((self.host, self.port), backlog=4096)
        listener.setblocking(False)
        self.kernel_stamps = _enable_stamps(listener)  # accepted sockets inherit it
        self.app.arrival_clock = "kernel" if self.kernel_stamps else "read"  # type: ignore[attr-defined]
        self.port = listener.getsockname()[1]
        self.loop.add_reader(listener.fileno(), self._accept, listener)
        freezer = self.loop.create_task(_freeze_record())
        try:
            await asyncio.Future()
        finally:
            freezer.cancel()
            self.loop.remove_reader(listener.fileno())
            listener.close()
            for conn in list(self.connections):
                self._close(conn)

    # Sockets -------------------------------------------------------------------------------
    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                sock, _ = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return  # out of descriptors and the like: the client will retry
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = _Connection(sock)
            self.connections.add(conn)
            self.loop.add_reader(sock.fileno(), self._read, conn)

    def _read(self, conn: _Connection) -> None:
        try:
            data, ancillary, _, _ = conn.sock.recvmsg(READ_SIZE, ANCILLARY)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._close(conn)
            return
        if not data:
            self._close(conn)
            return
        if conn.arrived is None:
            conn.arrived = _stamp(ancillary)
        conn.buffer += data
        self._answer_ready(conn)

    def _write(self, conn: _Connection, data: bytes) -> None:
        if not conn.pending_out:
            try:
                sent = conn.sock.send(data)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError:
                self._close(conn)
                return
            data = data[sent:]
            if not data:
                if conn.close_after:
                    self._close(conn)
                return
            self.loop.add_writer(conn.sock.fileno(), self._flush, conn)
        conn.pending_out += data

    def _flush(self, conn: _Connection) -> None:
        try:
            sent = conn.sock.send(conn.pending_out)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._close(conn)
            return
        conn.pending_out = conn.pending_out[sent:]
        if not conn.pending_out:
            self.loop.remove_writer(conn.sock.fileno())
            if conn.close_after:
                self._close(conn)

    def _close(self, conn: _Connection) -> None:
        if conn not in self.connections:
            return
        self.connections.discard(conn)
        fd = conn.sock.fileno()
        if fd >= 0:
            self.loop.remove_reader(fd)
            self.loop.remove_writer(fd)
        conn.sock.close()

    # HTTP ----------------------------------------------------------------------------------
    def _answer_ready(self, conn: _Connection) -> None:
        """Answer every complete request in the buffer, in order."""
        while not conn.busy and conn in self.connections:
            try:
                request = _parse(conn.buffer)
            except BadRequest as exc:
                conn.close_after = True
                self._respond(conn, 400, {"error": {"message": str(exc), "code": 100}}, False)
                return
            if request is None:
                return
            method, target, headers, body, used, keep_alive = request
            conn.buffer = conn.buffer[used:]
            arrived = conn.arrived
            conn.arrived = arrived if conn.buffer else None  # a pipelined one came with it
            path, _, query = target.partition("?")
            try:
                answer = self.app.answer_now(method, path, body, headers, arrived)
            except Exception as exc:  # noqa: BLE001 - the fake answers 500 and goes on
                answer = 500, {"error": {"message": f"fake failed: {exc!r}", "code": 1}}
            if answer is not None:
                self._respond(conn, *answer, keep_alive)
                continue
            conn.busy = True
            task = self.loop.create_task(
                self.app.dispatch(method, path, body, headers, parse_qs(query))
            )
            task.add_done_callback(functools.partial(self._answered, conn, keep_alive))

    def _answered(self, conn: _Connection, keep_alive: bool, task: asyncio.Task[Answer]) -> None:
        conn.busy = False
        try:
            status, answer = task.result()
        except Exception as exc:  # noqa: BLE001 - the fake answers 500 and goes on
            status, answer = 500, {"error": {"message": f"fake failed: {exc!r}", "code": 1}}
        self._respond(conn, status, answer, keep_alive)
        self._answer_ready(conn)

    def _respond(
        self, conn: _Connection, status: int, answer: dict[str, Any], keep_alive: bool
    ) -> None:
        payload = json.dumps(answer).encode()
        head = (
            f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}\r\n"
            "content-type: application/json\r\n"
            f"content-length: {len(payload)}\r\n"
        )
        if not keep_alive:
            head += "connection: close\r\n"
            conn.close_after = True
        self._write(conn, head.encode() + b"\r\n" + payload)


Request = tuple[str, str, dict[str, str], bytes, int, bool]


def _parse(buffer: bytes) -> Request | None:
    """One complete request from the start of `buffer` (None: not all here yet):
    method, target, headers (lower-case names), body, bytes used, keep-alive."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        if len(buffer) > MAX_HEAD:
            raise BadRequest("request head too large")
        return None
    lines = buffer[:end].decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise BadRequest(f"not an HTTP/1.x request line: {lines[0][:80]!r}")
    method, target, version = parts
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            raise BadRequest(f"bad header line: {line[:80]!r}")
        headers[name.strip().lower()] = value.strip()
    start = end + 4
    if "chunked" in headers.get("transfer-encoding", "").lower():
        chunked = _dechunk(buffer, start)
        if chunked is None:
            return None
        body, used = chunked
    else:
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError:
            raise BadRequest("bad content-length") from None
        if not 0 <= length <= MAX_BODY:
            raise BadRequest("body too large")
        if len(buffer) < start + length:
            return None
        body, used = buffer[start : start + length], start + length
    connection = headers.get("connection", "").lower()
    keep_alive = connection != "close" if version == "HTTP/1.1" else connection == "keep-alive"
    return method, target, headers, body, used, keep_alive


def _dechunk(buffer: bytes, start: int) -> tuple[bytes, int] | None:
    pieces: list[bytes] = []
    at = start
    while True:
        line_end = buffer.find(b"\r\n", at)
        if line_end < 0:
            return None
        try:
            size = int(buffer[at:line_end].split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise BadRequest("bad chunk size") from None
        at = line_end + 2
        if size == 0:
            trailer_end = buffer.find(b"\r\n\r\n", at - 2)
            return (b"".join(pieces), trailer_end + 4) if trailer_end >= 0 else None
        if len(buffer) < at + size + 2:
            return None
        pieces.append(buffer[at : at + size])
        at += size + 2


def _enable_stamps(listener: socket.socket) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        listener.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    except OSError:
        return False
    return True


def _stamp(ancillary: list[tuple[int, int, bytes]]) -> float:
    """The kernel's receive time of the data just read, else now (same clock: time.time)."""
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= STAMP.size:
            seconds, nanoseconds = STAMP.unpack_from(data)
            return float(seconds + nanoseconds / 1e9)
    return time.time()


async def _freeze_record() -> None:
    """Move what the fake has accumulated out of the garbage collector's sight, every second.

    The record of accepted messages only grows (300,000 dicts in a 5-minute soak); each full
    collection walks all of it and stalls every connection meanwhile. Frozen objects are
    never collected, which costs nothing here: records are kept until reset anyway.
    """
    while True:
        await asyncio.sleep(FREEZE_EVERY)
        gc.freeze()
