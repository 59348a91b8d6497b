"""Sending one message through the Cloud API over an `httpx.AsyncClient`.

    client = CloudClient.from_settings()              # or CloudClient(http, base_url=..., ...)
    result = await client.send("51987654321", {"type": "text", "text": {"body": "Hola"}})
    result.wamid  /  result.verdict (whatsapp.errors)

The HTTP transport is the seam: tests pass `httpx.MockTransport`, the simulator an
`httpx.ASGITransport` to the fake Cloud API (`patas.whatsapp.fake`). Nothing here retries:
retries, rate limits and ordering belong to the outbox sender (`patas.messaging.sender`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings

from patas.whatsapp.client_transport import LeanTransport, origin_of, request_head
from patas.whatsapp.errors import Verdict, classify

DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=5.0)
# httpx logs every request at INFO: at 1,000 sends a second that is a log line per message.
logging.getLogger("httpx").setLevel(logging.WARNING)


@dataclass(frozen=True)
class SendResult:
    wamid: str | None = None
    http_status: int | None = None
    error_code: int | None = None
    error_title: str = ""

    @property
    def ok(self) -> bool:
        return self.wamid is not None

    @property
    def verdict(self) -> Verdict:
        return classify(self.error_code, self.http_status)


def send_body(to: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The full send body: our payload (type + content) addressed to `to`."""
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, **payload}


def parse_response(status: int, content: bytes) -> SendResult:
    """A send answer as a SendResult: the wamid on success, else the error code and title."""
    try:
        data = json.loads(content) if content else {}
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    if 200 <= status < 300:
        messages = data.get("messages") or []
        wamid = messages[0].get("id") if messages and isinstance(messages[0], dict) else None
        if wamid:
            return SendResult(wamid=str(wamid), http_status=status)
        return SendResult(http_status=500, error_title="success answer without a message id")
    error = data.get("error")
    if not isinstance(error, dict):
        error = {}
    code = error.get("code")
    error_data = error.get("error_data")
    details = error_data.get("details", "") if isinstance(error_data, dict) else ""
    title = str(error.get("message") or error.get("title") or f"HTTP {status}")
    if details:
        title = f"{title}: {details}"
    return SendResult(
        http_status=status,
        error_code=int(code) if isinstance(code, int | str) and str(code).isdigit() else None,
        error_title=title[:300],
    )


class CloudClient:
    """Sends for one phone number id. Share one instance per event loop (it pools connections)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        version: str,
        phone_number_id: str,
        token: str,
        lean: LeanTransport | None = None,
    ) -> None:
        self.http = http
        self.phone_number_id = phone_number_id
        self.url = f"{base_url.rstrip('/')}/{version}/{phone_number_id}/messages"
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        # With a LeanTransport, sends skip httpx's client layer (see client_transport.post).
        self.lean = lean
        if lean is not None:
            url = httpx.URL(self.url)
            self._origin = origin_of(url)
            self._head = request_head("POST", url, {"User-Agent": "patas", **self.headers})

    @classmethod
    def from_settings(
        cls,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        phone_number_id: str | None = None,
        max_connections: int = 100,
    ) -> CloudClient:
        """`transport` defaults to `LeanTransport` (see client_transport: about 5x less CPU
        per request than httpx's default transport)."""
        if transport is None:
            transport = LeanTransport(max_connections=max_connections)
        http = httpx.AsyncClient(transport=transport, timeout=DEFAULT_TIMEOUT)
        return cls(
            http,
            base_url=settings.WHATSAPP_API_URL,
            version=settings.WHATSAPP_API_VERSION,
            phone_number_id=phone_number_id or settings.WHATSAPP_PHONE_NUMBER_ID,
            token=settings.WHATSAPP_ACCESS_TOKEN,
            lean=transport if isinstance(transport, LeanTransport) else None,
        )

    async def send(self, to: str, payload: dict[str, Any]) -> SendResult:
        """POST one message; never raises for HTTP or network trouble (see SendResult)."""
        body = json.dumps(send_body(to, payload), ensure_ascii=False).encode()
        try:
            if self.lean is not None:
                status, content = await self.lean.post(self._origin, self._head, body)
            else:
                response = await self.http.post(self.url, content=body, headers=self.headers)
                status, content = response.status_code, response.content
        except httpx.TransportError as exc:  # connect/read errors, timeouts: retry later
            return SendResult(error_title=f"network error: {type(exc).__name__}: {exc}"[:300])
        return parse_response(status, content)

    async def aclose(self) -> None:
        await self.http.aclose()
