"""The lean HTTP/1.1 transport, against small servers on loopback."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from patas.whatsapp.client_transport import LeanTransport


async def serve(answers, seen):
    """A server that answers each request with the next raw answer (bytes or a callable)."""
    queue = list(answers)
    connections = iter(range(1000))

    async def handle(reader, writer):
        number = next(connections)
        try:
            while queue:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                body = await reader.readexactly(length)
                seen.append((head, body, number))
                answer = queue.pop(0)
                if answer == "close":
                    writer.close()
                    return
                writer.write(answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def ok(body: bytes, extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), extra, body)


def test_posts_and_reuses_the_connection():
    seen = []

    async def go():
        server, port = await serve([ok(b'{"n": 1}'), ok(b'{"n": 2}')], seen)
        async with httpx.AsyncClient(transport=LeanTransport()) as client:
            first = await client.post(
                f"http://127.0.0.1:{port}/v23.0/1/messages",
                json={"to": "519"},
                headers={"Authorization": "Bearer t"},
            )
            second = await client.post(
                f"http://127.0.0.1:{port}/v23.0/1/messages?x=1", content=b"{}"
            )
        server.close()
        return first, second

    first, second = asyncio.run(go())
    assert first.json() == {"n": 1} and second.json() == {"n": 2}
    head, body, conn = seen[0]
    assert head.startswith(b"POST /v23.0/1/messages HTTP/1.1\r\n")
    assert b"\r\nHost: 127.0.0.1:" in head and b"authorization: bearer t" in head.lower()
    assert json.loads(body) == {"to": "519"}
    assert seen[1][0].startswith(b"POST /v23.0/1/messages?x=1 HTTP/1.1")
    assert seen[1][2] == conn  # the same connection, kept alive


def test_reads_chunked_answers():
    chunked = (
        b"HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'5\r\n{"a":\r\n3\r\n 1}\r\n0\r\n\r\n'
    )

    async def go():
        server, port = await serve([chunked], [])
        async with httpx.AsyncClient(transport=LeanTransport()) as client:
            response = await client.post(f"http://127.0.0.1:{port}/x", content=b"{}")
        server.close()
        return response

    response = asyncio.run(go())
    assert response.status_code == 400 and response.json() == {"a": 1}


def test_a_connection_the_server_closed_is_replaced_once():
    seen = []

    async def go():
        # the first connection answers once then closes on the next request
        server, port = await serve([ok(b"1"), "close", ok(b"3")], seen)
        async with httpx.AsyncClient(transport=LeanTransport()) as client:
            one = await client.post(f"http://127.0.0.1:{port}/x", content=b"a")
            two = await client.post(f"http://127.0.0.1:{port}/x", content=b"b")
        server.close()
        return one, two

    one, two = asyncio.run(go())
    assert (one.text, two.text) == ("1", "3")
    assert seen[2][2] != seen[0][2]  # a fresh connection


def test_connection_refused_is_a_transport_error():
    async def go():
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        async with httpx.AsyncClient(transport=LeanTransport()) as client:
            await client.post(f"http://127.0.0.1:{port}/x", content=b"{}")

    with pytest.raises(httpx.ConnectError):
        asyncio.run(go())


def test_a_silent_server_times_out():
    async def go():
        async def never(reader, writer):
            await reader.read()

        server = await asyncio.start_server(never, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            async with httpx.AsyncClient(transport=LeanTransport(read_timeout=0.05)) as client:
                await client.post(f"http://127.0.0.1:{port}/x", content=b"{}")
        finally:
            server.close()

    with pytest.raises(httpx.ReadTimeout):
        asyncio.run(go())


def test_garbage_is_a_read_error():
    async def go():
        server, port = await serve([b"SMTP ready\r\n\r\n"], [])
        try:
            async with httpx.AsyncClient(transport=LeanTransport()) as client:
                await client.post(f"http://127.0.0.1:{port}/x", content=b"{}")
        finally:
            server.close()

    with pytest.raises(httpx.ReadError):
        asyncio.run(go())
