"""A fake WhatsApp Cloud API for tests, the simulator and benchmarks.

An ASGI app (uvicorn serves it: `patas fake-whatsapp`; in-process: `httpx.ASGITransport(app)`):

    POST /{version}/{phone_number_id}/messages      the send API: validates, answers a wamid
    POST /{version}/{waba_id}/message_templates     create a template (PENDING, then APPROVED
    GET  /{version}/{waba_id}/message_templates     after `template_delay` seconds)
    GET  /_fake/messages?since=N[&fields=to,arrived] what it accepted (JSON), from index N
    GET  /_fake/errors                              what it refused, and why
    GET  /_fake/stats                               counts, the most accepted in any 1 s, CPU;
                                                    the same per number under `by_number`
    POST /_fake/config                              change error rates, limits, ... (JSON)
    POST /_fake/reset                               forget everything received
    POST /_fake/inbound                             post a signed inbound message to the webhook

Errors are injected by rate (`error_rates={130429: 0.05, 500: 0.02}`), per recipient
(`recipient_errors={"51900000001": 131026}`), as a storm (`storm={"code": 130429, "count": 50}`:
the next 50 sends fail) or by a throughput limit (`mps=80`: 130429 above 80 in any second, for
each number on its own, as Meta limits each phone number).
With a webhook URL it posts status callbacks (sent, delivered, read) in batches, signed.

Each accepted send is recorded with `at` (when the fake handled it) and `arrived` (when it
reached the fake: the kernel's receive time under `patas fake-whatsapp`, see fake_server;
otherwise the same as `at`). Meta counts arrivals, so the limit and `max_in_1s` use `arrived`:
a stall of the fake itself then delays handling without bunching the count.
"""

from __future__ import annotations

import bisect
import itertools
import json
import random
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from patas.whatsapp import fake_webhook
from patas.whatsapp.fake_validate import problem

ERROR_TITLES = {
    4: "Application request limit reached",
    80007: "Rate limit hit",
    130429: "Rate limit hit",
    131000: "Something went wrong",
    131016: "Service unavailable",
    131026: "Message undeliverable",
    131047: "Re-engagement message",
    131048: "Spam rate limit hit",
    131049: "This message was not delivered to maintain healthy ecosystem engagement.",
    131050: "User has stopped marketing messages",
    131056: "(Business Account, Consumer Account) pair rate limit hit",
    131064: "Quality limit hit",
    100: "Invalid parameter",
    190: "Invalid OAuth access token",
}
TEMPLATE_NAME = re.compile(r"^[a-z0-9_]{1,512}$")
TEMPLATE_CATEGORIES = {"MARKETING", "UTILITY", "AUTHENTICATION"}

Answer = tuple[int, dict[str, Any]]


@dataclass
class FakeConfig:
    token: str | None = None  # when set, the bearer token must match
    error_rates: dict[int, float] = field(default_factory=dict)  # code (or HTTP 5xx) -> rate
    recipient_errors: dict[str, int] = field(default_factory=dict)  # to -> code, always
    mps: float | None = None  # throughput limit: 130429 above it in any 1 s window
    webhook_url: str | None = None
    app_secret: str = "dev-app-secret"
    statuses: tuple[str, ...] = ("sent", "delivered", "read")
    template_delay: float = 0.0  # seconds from PENDING to APPROVED
    waba_id: str = "200000000000001"
    display_phone_number: str = "15550000000"
    seed: int | None = None
    keep_bodies: bool = True  # False: record no request bodies (long soak runs: less memory)


def parse_error_rates(text: str) -> dict[int, float]:
    """'130429=0.05,500=0.02' -> {130429: 0.05, 500: 0.02}, or ValueError naming the bad part."""
    rates: dict[int, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        code, sep, rate = part.partition("=")
        try:
            value = float(rate)
            rates[int(code)] = value
        except ValueError:
            raise ValueError(
                f"bad error rate {part!r}: expected CODE=RATE, e.g. 130429=0.05"
            ) from None
        if not sep or not 0 <= value <= 1:
            raise ValueError(f"bad error rate {part!r}: the rate must be between 0 and 1")
    return rates


def error_answer(code: int, details: str = "") -> Answer:
    http = code if 500 <= code < 600 else (401 if code == 190 else 400)
    graph_code = 2 if 500 <= code < 600 else code
    error: dict[str, Any] = {
        "message": ERROR_TITLES.get(graph_code, "Service temporarily unavailable"),
        "type": "OAuthException",
        "code": graph_code,
        "fbtrace_id": uuid.uuid4().hex[:20],
    }
    if details:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    return http, {"error": error}


class FakeCloudAPI:
    def __init__(
        self, config: FakeConfig | None = None, *, time_source: Callable[[], float] = time.time
    ) -> None:
        self.config = config or FakeConfig()
        self.now = time_source
        self.rng = random.Random(self.config.seed)
        self.reset()

    def reset(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.taken = 0  # accepted sends handed over by take_received() and forgotten
        self.rejected: list[dict[str, Any]] = []
        self.templates: list[dict[str, Any]] = []
        self.storm_left = 0
        self.storm_code = 0
        self._recent: dict[str, list[float]] = {}  # per number: arrivals counted by the limit
        self._seq = itertools.count(1)
        self._statuses: list[dict[str, Any]] = []
        self.webhook_posts = 0

    def configure(self, changes: dict[str, Any]) -> None:
        """Apply a partial config (the JSON of POST /_fake/config)."""
        cfg = self.config
        if "error_rates" in changes:
            rates = changes["error_rates"]
            cfg.error_rates = (
                parse_error_rates(rates)
                if isinstance(rates, str)
                else {int(k): float(v) for k, v in rates.items()}
            )
        if "recipient_errors" in changes:
            cfg.recipient_errors = {str(k): int(v) for k, v in changes["recipient_errors"].items()}
        if "mps" in changes:
            cfg.mps = float(changes["mps"]) if changes["mps"] else None
        if "storm" in changes:
            self.storm_code = int(changes["storm"]["code"])
            self.storm_left = int(changes["storm"]["count"])
        for key in ("webhook_url", "app_secret", "template_delay", "token"):
            if key in changes:
                setattr(cfg, key, changes[key])
        if "statuses" in changes:
            cfg.statuses = tuple(changes["statuses"])

    # The send API ------------------------------------------------------------------------
    def handle_send(
        self, phone_number_id: str, raw: bytes, auth: str | None, arrived: float | None = None
    ) -> Answer:
        at = self.now()
        arrived = at if arrived is None else arrived
        number = phone_number_id
        if self.config.token and auth != f"Bearer {self.config.token}":
            return self._refuse(at, number, None, 190, "")
        try:
            body = json.loads(raw)
        except ValueError:
            return self._refuse(at, number, None, 100, "the body is not JSON")
        why = problem(body)
        to = body.get("to") if isinstance(body, dict) else None
        if why:
            return self._refuse(at, number, to, 100, why)
        code = self._injected_error(arrived, str(to), number)
        if code:
            return self._refuse(at, number, to, code, "")
        wamid = f"wamid.FAKE{next(self._seq):010d}{uuid.uuid4().hex[:12]}"
        self.received.append(
            {
                "at": at,
                "arrived": arrived,
                "phone_number_id": phone_number_id,
                "to": to,
                "type": body.get("type", "text"),
                "wamid": wamid,
                "body": body if self.config.keep_bodies else None,
            }
        )
        if self.config.webhook_url and self.config.statuses:
            self._statuses.append(
                {"wamid": wamid, "to": to, "at": at, "phone_number_id": phone_number_id}
            )
        return 200, {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": to}],
            "messages": [{"id": wamid}],
        }

    def _injected_error(self, at: float, to: str, phone_number_id: str) -> int:
        if to in self.config.recipient_errors:
            return self.config.recipient_errors[to]
        if self.storm_left > 0:
            self.storm_left -= 1
            return self.storm_code
        if self.config.mps and self._over_limit(at, self.config.mps, phone_number_id):
            return 130429
        for code, rate in self.config.error_rates.items():
            if rate and self.rng.random() < rate:
                return code
        return 0

    def _over_limit(self, arrived: float, mps: float, phone_number_id: str) -> bool:
        """Meta's throughput limit of one number: `mps` arrivals already in the second up to
        this one. (Requests on different connections may be handled a little out of order.)"""
        recent = self._recent.setdefault(phone_number_id, [])
        if recent and recent[0] < recent[-1] - 3.0:  # forget what no window can reach
            del recent[: bisect.bisect_right(recent, recent[-1] - 2.0)]
        end = bisect.bisect_right(recent, arrived)
        if end - bisect.bisect_right(recent, arrived - 1.0) >= mps:
            return True
        recent.insert(end, arrived)
        return False

    def _refuse(self, at: float, number: str, to: Any, code: int, details: str) -> Answer:
        self.rejected.append(
            {"at": at, "phone_number_id": number, "to": to, "code": code, "details": details}
        )
        return error_answer(code, details)

    # Templates ---------------------------------------------------------------------------
    def create_template(self, raw: bytes) -> Answer:
        try:
            body = json.loads(raw)
        except ValueError:
            return error_answer(100, "the body is not JSON")
        name, category = body.get("name", ""), str(body.get("category", "")).upper()
        if not isinstance(name, str) or not TEMPLATE_NAME.match(name):
            return error_answer(100, "name must be lowercase letters, digits and underscores")
        if category not in TEMPLATE_CATEGORIES:
            return error_answer(100, f"category must be one of {sorted(TEMPLATE_CATEGORIES)}")
        if not body.get("language"):
            return error_answer(100, "language is required")
        template = {
            "id": str(1000 + len(self.templates)),
            "name": name,
            "category": category,
            "language": body["language"],
            "components": body.get("components", []),
            "created": self.now(),
        }
        self.templates.append(template)
        return 200, {"id": template["id"], "status": "PENDING", "category": category}

    def list_templates(self, query: dict[str, list[str]]) -> Answer:
        now = self.now()
        data = [
            {
                **{k: v for k, v in t.items() if k != "created"},
                "status": "APPROVED"
                if now >= t["created"] + self.config.template_delay
                else "PENDING",
            }
            for t in self.templates
            if not query.get("name") or t["name"] == query["name"][0]
        ]
        return 200, {"data": data, "paging": {}}

    # Reading the record ------------------------------------------------------------------
    def take_received(self) -> list[dict[str, Any]]:
        """Hand over what was accepted since the last call, and forget it. For in-process users
        that read each send once (the simulation): the record of a long run would otherwise hold
        every send body (1.4 million at 10,000 men). `stats()` then counts only what was not
        taken, and `taken` says how many were."""
        fresh, self.received = self.received, []
        self.taken += len(fresh)
        return fresh

    def stats(self) -> dict[str, Any]:
        """`max_in_1s` counts arrivals (what Meta counts); `max_in_1s_handled` counts when the
        fake got round to each request, which includes the fake's own queueing. `by_number`:
        the same counts for each phone number id (Meta's limit is per number)."""
        numbers = sorted(
            {r["phone_number_id"] for r in self.received}
            | {r["phone_number_id"] for r in self.rejected}
        )
        return {
            **_counts(self.received, self.rejected),
            "arrival_clock": getattr(self, "arrival_clock", "handler"),
            "cpu_seconds": time.process_time(),
            "webhook_posts": self.webhook_posts,
            "by_number": {
                number: _counts(
                    [r for r in self.received if r["phone_number_id"] == number],
                    [r for r in self.rejected if r["phone_number_id"] == number],
                )
                for number in numbers
            },
        }

    # ASGI ----------------------------------------------------------------------------------
    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        raw = await _read_body(receive)
        headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
        query = parse_qs(scope.get("query_string", b"").decode())
        status, answer = await self.dispatch(scope["method"], scope["path"], raw, headers, query)
        payload = json.dumps(answer).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    async def dispatch(
        self,
        method: str,
        path: str,
        raw: bytes,
        headers: dict[str, str],
        query: dict[str, list[str]],
    ) -> Answer:
        answer = self.answer_now(method, path, raw, headers)
        if answer is not None:
            return answer
        parts = [p for p in path.split("/") if p]
        if parts[:1] == ["_fake"]:
            return await self._control(method, parts[1:], raw, query)
        if len(parts) == 3 and parts[2] == "message_templates":
            if method == "POST":
                return self.create_template(raw)
            return self.list_templates(query)
        return 404, {"error": {"message": f"no such endpoint: {method} {path}", "code": 100}}

    def answer_now(
        self,
        method: str,
        path: str,
        raw: bytes,
        headers: dict[str, str],
        arrived: float | None = None,
    ) -> Answer | None:
        """The send API, answered without awaiting (a server's hot path); None otherwise."""
        parts = [p for p in path.split("/") if p]
        if method != "POST" or len(parts) != 3 or parts[2] != "messages" or parts[0] == "_fake":
            return None
        answer = self.handle_send(parts[1], raw, headers.get("authorization"), arrived)
        if self._statuses:
            fake_webhook.schedule_statuses(self)
        return answer

    async def _control(
        self, method: str, parts: list[str], raw: bytes, query: dict[str, list[str]]
    ) -> Answer:
        what = parts[0] if parts else ""
        if what == "messages":
            since = int(query.get("since", ["0"])[0])
            page = self.received[since:]
            if query.get("fields"):  # only these keys (long runs: a much smaller answer)
                keys = query["fields"][0].split(",")
                page = [{k: r.get(k) for k in keys} for r in page]
            return 200, {"messages": page, "next": len(self.received)}
        if what == "errors":
            return 200, {"errors": self.rejected}
        if what == "stats":
            return 200, self.stats()
        if what == "templates":
            return 200, {"templates": self.templates}
        if what == "reset" and method == "POST":
            self.reset()
            return 200, {"reset": True}
        if what == "config" and method == "POST":
            try:
                self.configure(json.loads(raw or b"{}"))
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                return 400, {"error": {"message": f"bad config: {exc}", "code": 100}}
            return 200, {"ok": True}
        if what == "inbound" and method == "POST":
            return await fake_webhook.post_inbound(self, json.loads(raw or b"{}"))
        return 404, {"error": {"message": f"no such control: {'/'.join(parts)}", "code": 100}}


def _counts(received: list[dict[str, Any]], rejected: list[dict[str, Any]]) -> dict[str, Any]:
    arrivals = sorted(r["arrived"] for r in received)
    return {
        "accepted": len(received),
        "rejected": len(rejected),
        "first_at": arrivals[0] if arrivals else None,
        "last_at": arrivals[-1] if arrivals else None,
        "max_in_1s": _max_in_window(arrivals),
        "max_in_1s_handled": _max_in_window([r["at"] for r in received]),
    }


def _max_in_window(times: list[float], window: float = 1.0) -> int:
    ordered = sorted(times)
    best, start = 0, 0
    for end, moment in enumerate(ordered):
        while ordered[start] + window <= moment:
            start += 1
        best = max(best, end - start + 1)
    return best


async def _read_body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def in_process_transport(app: FakeCloudAPI) -> Any:
    """An httpx transport that calls the fake directly (no socket)."""
    import httpx

    return httpx.ASGITransport(app=app)  # type: ignore[arg-type]
