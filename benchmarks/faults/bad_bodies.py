"""Fault 5: oversized and garbage webhook bodies are refused cheaply, and nothing is stored.

    python benchmarks/faults/bad_bodies.py [--repeat 20] [--database sqlite|postgresql]

Starts `patas web` on a fresh database and posts each kind of bad request --repeat times (the
10 MB ones 3 times): 10 MB with Content-Length, 10 MB chunked, a huge Content-Length with a small
body, random bytes unsigned and signed, truncated JSON, JSON that is not WhatsApp, WhatsApp
shapes with wrong types, a wrong or missing signature, deeply nested JSON, an impossible
timestamp, a bad Content-Length header. Prints, per kind, the answers, the median time to the
answer and the server's CPU per request. Then checks that nothing was stored and that a genuine
delivery is still stored (200).

Guarantees checked (exit status 1 if broken): every bad request answered with its 4xx (never 2xx,
never 5xx: Meta would retry a 5xx for days); the 10 MB bodies refused before the server reads
them (413); nothing stored; the server alive and storing afterwards, its memory not grown by
the size of what was refused.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import common

MB = 1024 * 1024
LIMIT = MB  # PATAS_WEBHOOK_MAX_BYTES, the default


@dataclass(frozen=True)
class Bad:
    name: str
    expect: int  # the status it must get (0: the connection may just close)
    head: bytes  # request line and headers, without the signature line
    body: bytes = b""
    signed: bool = False  # with a valid signature over `body`
    chunked_total: int = 0  # stream this many bytes chunked instead of `body`
    repeat: int = 0  # 0: --repeat


def genuine(wamid: str = "wamid.bad.ok") -> bytes:
    return common.inbound_body("51955555555", wamid, "hola")


def wrong_types() -> bytes:
    value = {"messages": [{"id": 7, "from": ["x"], "timestamp": {}, "type": 3}]}
    return json.dumps(
        {"object": "whatsapp_business_account", "entry": [{"changes": [value]}]}
    ).encode()


def impossible_timestamp() -> bytes:
    return re.sub(rb'"timestamp":"\d+"', b'"timestamp":"99999999999999999"', genuine())


def lone_surrogate() -> bytes:
    """A text with an unpaired UTF-16 surrogate escape: valid JSON, not storable as UTF-8."""
    return genuine("wamid.bad.surrogate").replace(b'"body":"hola"', b'"body":"hola \\ud800"')


def cases(port: int, rng: random.Random) -> list[Bad]:
    def head(length: int | str | None, extra: str = "") -> bytes:
        lines = [f"POST {common.WEBHOOK_PATH} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
        lines.append("Content-Type: application/json")
        if length is not None:
            lines.append(f"Content-Length: {length}")
        if extra:
            lines.append(extra)
        return ("\r\n".join(lines) + "\r\n").encode()

    noise = bytes(rng.getrandbits(8) for _ in range(2000))
    truncated = genuine()[:-40]
    not_whatsapp = json.dumps({"hello": "world", "entry": "nope"}).encode()
    nested = b"[" * 200_000 + b"]" * 200_000
    big = b"x" * (10 * MB)
    return [
        Bad("10 MB, Content-Length", 413, head(len(big)), big, repeat=3),
        Bad(
            "10 MB, chunked",
            413,
            head(None, "Transfer-Encoding: chunked"),
            chunked_total=10 * MB,
            repeat=3,
        ),
        Bad("Content-Length 10^12, 20-byte body", 413, head(10**12), b"{" * 20),
        Bad("random bytes, unsigned", 403, head(len(noise)), noise),
        Bad("random bytes, signed", 400, head(len(noise)), noise, signed=True),
        Bad("truncated JSON, signed", 400, head(len(truncated)), truncated, signed=True),
        Bad("JSON, not WhatsApp, signed", 400, head(len(not_whatsapp)), not_whatsapp, signed=True),
        Bad(
            "WhatsApp shape, wrong types, signed",
            400,
            head(len(wrong_types())),
            wrong_types(),
            signed=True,
        ),
        Bad(
            "wrong signature",
            403,
            head(len(genuine()), "X-Hub-Signature-256: sha256=" + "0" * 64),
            genuine(),
        ),
        Bad("no signature", 403, head(len(genuine())), genuine()),
        Bad("no Content-Length, no body", 403, head(None)),
        Bad("deeply nested JSON (400 kB), signed", 400, head(len(nested)), nested, signed=True),
        Bad(
            "timestamp out of range, signed",
            400,
            head(len(impossible_timestamp())),
            impossible_timestamp(),
            signed=True,
        ),
        Bad("Content-Length not a number", 400, head("ten")),
    ]


async def send(port: int, bad: Bad) -> tuple[int, float, int]:
    """(status or 0 if the connection closed without one, seconds to the answer, bytes sent)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = bad.head
    if bad.signed:
        signature = common.signed_request(port, bad.body).split(b"X-Hub-Signature-256: ")[1]
        head += b"X-Hub-Signature-256: " + signature.split(b"\r\n")[0] + b"\r\n"
    started = time.perf_counter()
    writer.write(head + b"\r\n")
    sent = [0]

    async def stream() -> None:
        if bad.chunked_total:
            chunk = b"x" * 65536
            while sent[0] < bad.chunked_total:
                writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent[0] += len(chunk)
                await writer.drain()
            writer.write(b"0\r\n\r\n")
        else:
            for start in range(0, len(bad.body), 65536):
                writer.write(bad.body[start : start + 65536])
                sent[0] += len(bad.body[start : start + 65536])
                await writer.drain()

    streaming = asyncio.ensure_future(stream())
    try:
        status, _ = await asyncio.wait_for(common.read_response(reader), 30)
    except (OSError, asyncio.IncompleteReadError, TimeoutError):
        status = 0
    elapsed = time.perf_counter() - started
    streaming.cancel()
    await asyncio.gather(streaming, return_exceptions=True)
    writer.close()
    return status, elapsed, sent[0]


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def attack(port: int, pid: int, repeat: int) -> tuple[list[str], list[str], int, int]:
    """Every case `repeat` times; a line per case, the problems seen, requests sent and
    requests answered as they should be."""
    lines, problems, sent_total, refused = [], [], 0, 0
    for bad in cases(port, random.Random(7)):
        cpu_before = common.cpu_seconds(pid)
        results = [asyncio.run(send(port, bad)) for _ in range(bad.repeat or repeat)]
        cpu = (common.cpu_seconds(pid) - cpu_before) / len(results)
        codes = Counter(status for status, _, _ in results)
        sent_total += len(results)
        refused += codes[bad.expect]
        median_ms = statistics.median(t for _, t, _ in results) * 1000
        sent = max(n for _, _, n in results)
        lines.append(
            f"  {bad.name:40} answers {dict(codes)}, median {median_ms:.1f} ms, "
            f"server CPU {cpu * 1000:.1f} ms/request, client sent up to {sent / MB:.2f} MB"
        )
        if set(codes) - {bad.expect}:
            problems.append(f"{bad.name}: answers {dict(codes)}, expected {bad.expect}")
    return lines, problems, sent_total, refused


def run(args: argparse.Namespace) -> int:
    with common.stage("bad", args.database, args.server, args.keep) as st:
        st.migrate()
        st.start_web(1)
        pid = st.processes["web"].pid
        warm = asyncio.run(common_post(st.web_port, genuine("wamid.bad.warm")))
        rss_before = rss_kb(pid)
        lines, problems, total, refused = attack(st.web_port, pid, args.repeat)
        rss_after = rss_kb(pid)
        url = st.database_url
        stored = int(common.scalar(url, "SELECT count(*) FROM messaging_message"))
        events = int(common.scalar(url, "SELECT count(*) FROM whatsapp_webhookevent"))
        health = asyncio.run(common_post(st.web_port, genuine()))
        # Odd but genuine: half an emoji is stored (as U+FFFD), not refused.
        odd = asyncio.run(common_post(st.web_port, lone_surrogate()))
        stored_after = int(common.scalar(url, "SELECT count(*) FROM messaging_message"))
        print("\n".join(lines))
        print(f"server RSS {rss_before / 1024:.0f} MB before, {rss_after / 1024:.0f} MB after")
        if warm != 200 or stored != 1 or events != 1:
            problems.append(f"stored by bad requests: {stored - 1} messages, {events - 1} events")
        if health != 200 or odd != 200 or stored_after != 3:
            problems.append(
                f"genuine deliveries afterwards: answers {health} and {odd} (half an emoji), "
                f"{stored_after - 1} of 2 stored"
            )
        if rss_after - rss_before > 20 * 1024:
            problems.append(f"server memory grew by {(rss_after - rss_before) / 1024:.0f} MB")
        print(
            common.counts_line(
                "bad bodies",
                sent=total,
                refused=refused,
                stored=max(stored - 1, 0),
                healthy_after=health == 200,
            )
        )
        print(common.machine(st))
    return common.verdict(problems)


async def common_post(port: int, body: bytes) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(common.signed_request(port, body))
    status, _ = await common.read_response(reader)
    writer.close()
    return int(status)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--server", default=common.PG_SERVER, help="PostgreSQL server URL")
    parser.add_argument("--keep", action="store_true", help="keep the data dir")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main())
