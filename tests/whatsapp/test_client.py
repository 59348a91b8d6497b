"""The send client against httpx.MockTransport (no network)."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from patas.whatsapp.client import CloudClient, parse_response
from patas.whatsapp.errors import Action


def make_client(handler) -> CloudClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return CloudClient(
        http, base_url="https://graph.example/", version="v23.0", phone_number_id="123", token="tok"
    )


def send(handler, to="51987654321", payload=None):
    async def go():
        client = make_client(handler)
        try:
            return await client.send(to, payload or {"type": "text", "text": {"body": "Hola"}})
        finally:
            await client.aclose()

    return asyncio.run(go())


def test_success_posts_the_cloud_api_body_and_returns_the_wamid():
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["url"] = str(request.url)
        seen["auth"] = request.headers["authorization"]
        seen["body"] = json.loads(request.content)
        return httpx.Response(
            200, json={"messaging_product": "whatsapp", "messages": [{"id": "wamid.ABC"}]}
        )

    result = send(handler)
    assert result.ok and result.wamid == "wamid.ABC"
    assert seen["url"] == "https://graph.example/v23.0/123/messages"
    assert seen["auth"] == "Bearer tok"
    assert seen["body"] == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "51987654321",
        "type": "text",
        "text": {"body": "Hola"},
    }


def test_a_graph_error_is_classified():
    def handler(request):
        return httpx.Response(
            400,
            json={
                "error": {
                    "message": "Message undeliverable",
                    "code": 131026,
                    "error_data": {"details": "no WhatsApp"},
                }
            },
        )

    result = send(handler)
    assert not result.ok
    assert result.error_code == 131026 and result.http_status == 400
    assert result.error_title == "Message undeliverable: no WhatsApp"
    assert result.verdict.action is Action.PERMANENT


def test_server_errors_and_garbage_are_retried():
    result = send(lambda request: httpx.Response(502, content=b"<html>bad gateway</html>"))
    assert result.http_status == 502 and result.error_code is None
    assert result.verdict.action is Action.RETRY


def test_network_errors_never_raise_and_are_retried():
    def handler(request):
        raise httpx.ConnectError("connection refused")

    result = send(handler)
    assert result.http_status is None
    assert "connection refused" in result.error_title
    assert result.verdict.action is Action.RETRY


def test_a_success_without_message_id_is_not_taken_for_sent():
    result = parse_response(200, b'{"messages": []}')
    assert not result.ok and result.verdict.action is Action.RETRY


@pytest.mark.parametrize("content", [b"", b"[]", b"null", b'{"error": "text"}'])
def test_odd_error_bodies_still_give_a_verdict(content):
    result = parse_response(400, content)
    assert not result.ok and result.verdict.action is Action.PERMANENT
