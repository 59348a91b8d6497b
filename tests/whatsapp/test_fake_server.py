"""The fake's lean HTTP server (`patas fake-whatsapp`), over real loopback sockets."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import threading
import time

import httpx
import pytest

from patas.whatsapp.client import CloudClient
from patas.whatsapp.client_transport import LeanTransport
from patas.whatsapp.fake import FakeCloudAPI, FakeConfig
from patas.whatsapp.fake_server import FakeServer


def text(to: str = "51900000001", body: str = "Hola") -> dict:
    return {"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": body}}


def raw_post(path: str, body: bytes, extra: str = "") -> bytes:
    head = f"POST {path} HTTP/1.1\r\nHost: fake\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    return head.encode() + body


async def started(app: FakeCloudAPI) -> tuple[FakeServer, asyncio.Task[None]]:
    server = FakeServer(app, "127.0.0.1", 0)
    task = asyncio.get_running_loop().create_task(server.serve())
    await asyncio.sleep(0)  # it binds before its first await
    return server, task


async def read_answer(reader: asyncio.StreamReader) -> tuple[int, dict]:
    head = await reader.readuntil(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
    return int(head.split(b" ")[1]), json.loads(await reader.readexactly(length))


def test_the_sender_client_sends_through_it_and_reads_answers():
    app = FakeCloudAPI(FakeConfig(recipient_errors={"51900000009": 131026}))

    async def go():
        server, task = await started(app)
        transport = LeanTransport()
        client = CloudClient(
            httpx.AsyncClient(transport=transport),
            base_url=f"http://127.0.0.1:{server.port}",
            version="v23.0",
            phone_number_id="123",
            token="t",
            lean=transport,
        )
        results = [await client.send("51900000001", {"type": "text", "text": {"body": "a"}})]
        results.append(await client.send("51900000009", {"type": "text", "text": {"body": "b"}}))
        async with httpx.AsyncClient() as plain:
            stats = (await plain.get(f"http://127.0.0.1:{server.port}/_fake/stats")).json()
            missing = await plain.get(f"http://127.0.0.1:{server.port}/nothing/here")
        idle = sum(len(conns) for conns in transport.idle.values())
        await client.aclose()
        task.cancel()
        return results, stats, missing.status_code, idle

    results, stats, missing, idle = asyncio.run(go())
    assert results[0].ok and results[0].wamid == app.received[0]["wamid"]
    assert not results[1].ok and results[1].error_code == 131026
    assert app.received[0]["body"]["text"]["body"] == "a"
    assert app.received[0]["arrived"] <= app.received[0]["at"]
    assert stats["accepted"] == 1 and stats["rejected"] == 1
    assert missing == 404
    assert idle == 1  # both sends went over one kept-alive connection


def test_chunked_bodies_pipelined_requests_and_connection_close():
    app = FakeCloudAPI()

    async def go():
        server, task = await started(app)
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        body = json.dumps({"mps": 5}).encode()
        chunked = (
            b"POST /_fake/config HTTP/1.1\r\nHost: fake\r\nTransfer-Encoding: chunked\r\n\r\n"
            + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
        )
        send = raw_post("/v23.0/1/messages", json.dumps(text()).encode(), "Connection: close\r\n")
        writer.write(chunked + send)  # two requests in one write
        answers = [await read_answer(reader), await read_answer(reader)]
        closed = await reader.read()  # the server closes after the second
        writer.close()
        task.cancel()
        return answers, closed

    answers, closed = asyncio.run(go())
    assert answers[0] == (200, {"ok": True})
    assert answers[1][0] == 200 and answers[1][1]["messages"][0]["id"].startswith("wamid.")
    assert app.config.mps == 5.0
    assert closed == b""


def test_a_malformed_request_gets_400_and_the_connection_closes():
    async def go():
        server, task = await started(FakeCloudAPI())
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"NONSENSE\r\n\r\n")
        answer = await read_answer(reader)
        rest = await reader.read()
        task.cancel()
        return answer, rest

    (status, body), rest = asyncio.run(go())
    assert status == 400 and "request line" in body["error"]["message"]
    assert rest == b""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="kernel receive stamps")
def test_a_stalled_fake_still_counts_requests_when_they_arrived():
    """Three requests arrive 0.2 s apart while the fake is stalled (its loop blocked): it
    handles them together afterwards, but stamps each with its own arrival."""
    app = FakeCloudAPI()

    async def go():
        server, task = await started(app)
        sockets = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(3)]
        await asyncio.sleep(0.1)  # accepted

        def client():
            for i, sock in enumerate(sockets):
                sock.sendall(raw_post("/v23.0/1/messages", json.dumps(text(f"5190{i}")).encode()))
                time.sleep(0.2)

        sending = threading.Thread(target=client)
        sending.start()
        time.sleep(0.8)  # blocks the event loop: the fake is stalled
        sending.join()
        while len(app.received) < 3:
            await asyncio.sleep(0.01)
        for sock in sockets:
            sock.close()
        task.cancel()

    asyncio.run(go())
    arrived = sorted(r["arrived"] for r in app.received)
    handled = sorted(r["at"] for r in app.received)
    assert arrived[2] - arrived[0] >= 0.39  # two sleeps of 0.2 s between them
    assert handled[2] - handled[0] < arrived[2] - arrived[0]  # handled in a bunch
    assert handled[0] >= arrived[2]  # none handled before the stall ended
    assert app.stats()["arrival_clock"] == "kernel"
