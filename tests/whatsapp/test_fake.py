"""The fake Cloud API, in process through httpx.ASGITransport."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json

import httpx
import pytest

from patas.whatsapp.client import CloudClient
from patas.whatsapp.fake import FakeCloudAPI, FakeConfig, parse_error_rates
from patas.whatsapp.fake_webhook import flush_statuses

URL = "http://fake"


class Ticker:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def run(app: FakeCloudAPI, calls):
    async def go():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=URL) as c:
            return await calls(c)

    return asyncio.run(go())


def post_message(app, body, token=None):
    headers = {"authorization": f"Bearer {token}"} if token else {}

    async def calls(c):
        return await c.post("/v23.0/123/messages", json=body, headers=headers)

    return run(app, calls)


def text(to="519", body="Hola"):
    return {"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": body}}


def buttons(titles):
    return {
        "messaging_product": "whatsapp",
        "to": "519",
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": "¿Listo?"},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": f"b{i}", "title": t}}
                    for i, t in enumerate(titles)
                ]
            },
        },
    }


def rows(n, title="Fila"):
    return {
        "messaging_product": "whatsapp",
        "to": "519",
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": {"text": "Elige"},
            "action": {
                "button": "Ver",
                "sections": [
                    {"title": "S", "rows": [{"id": f"r{i}", "title": title} for i in range(n)]}
                ],
            },
        },
    }


def test_accepts_a_message_answers_a_wamid_and_records_it():
    app = FakeCloudAPI()
    response = post_message(app, text())
    assert response.status_code == 200
    wamid = response.json()["messages"][0]["id"]
    assert wamid.startswith("wamid.")
    assert app.received[0]["wamid"] == wamid and app.received[0]["to"] == "519"
    assert app.received[0]["body"]["text"]["body"] == "Hola"


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (text(body="x" * 4097), "longer than 4096"),
        (text(to=""), "'to' is required"),
        ({**text(), "type": "hologram"}, "unsupported message type"),
        ({**text(), "messaging_product": "sms"}, "messaging_product"),
        (buttons(["a", "b", "c", "d"]), "1 to 3 buttons"),
        (buttons(["x" * 21]), "1 to 20 characters"),
        (rows(11), "1 to 10 rows"),
        (rows(2, title="y" * 25), "1 to 24 characters"),
        (
            {
                "messaging_product": "whatsapp",
                "to": "519",
                "type": "template",
                "template": {"name": "day_opener"},
            },
            "language.code",
        ),
        (
            {"messaging_product": "whatsapp", "to": "519", "type": "image", "image": {}},
            "id or a link",
        ),
    ],
)
def test_rejects_what_meta_rejects(body, why):
    app = FakeCloudAPI()
    response = post_message(app, body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == 100 and why in error["error_data"]["details"]
    assert app.received == [] and app.rejected[0]["code"] == 100


def test_accepts_the_limits_exactly():
    app = FakeCloudAPI()
    for body in (text(body="x" * 4096), buttons(["a" * 20, "b", "c"]), rows(10, "z" * 24)):
        assert post_message(app, body).status_code == 200


def test_token_is_checked_when_configured():
    app = FakeCloudAPI(FakeConfig(token="right"))
    assert post_message(app, text(), token="wrong").status_code == 401
    assert post_message(app, text(), token="right").status_code == 200


def test_recipient_errors_and_storms():
    app = FakeCloudAPI(FakeConfig(recipient_errors={"51900": 131026}))
    response = post_message(app, text(to="51900"))
    assert response.status_code == 400 and response.json()["error"]["code"] == 131026
    app.configure({"storm": {"code": 130429, "count": 2}})
    codes = [post_message(app, text()).status_code for _ in range(3)]
    assert codes == [400, 400, 200]
    assert [r["code"] for r in app.rejected] == [131026, 130429, 130429]


def test_error_rates_are_applied_at_about_the_given_rate():
    app = FakeCloudAPI(FakeConfig(error_rates={500: 0.3}, seed=4))

    async def calls(c):
        return [(await c.post("/v23.0/1/messages", json=text())).status_code for _ in range(400)]

    statuses = run(app, calls)
    share = statuses.count(500) / len(statuses)
    assert 0.2 < share < 0.4
    assert statuses.count(200) == len(app.received)


def test_error_rate_option_parsing():
    assert parse_error_rates("130429=0.05, 500=0.02") == {130429: 0.05, 500: 0.02}
    with pytest.raises(ValueError, match="CODE=RATE"):
        parse_error_rates("130429")
    with pytest.raises(ValueError, match="between 0 and 1"):
        parse_error_rates("500=2")


def test_throughput_limit_answers_130429_above_it():
    clock = Ticker()
    app = FakeCloudAPI(FakeConfig(mps=5), time_source=clock)
    first = [post_message(app, text()).status_code for _ in range(7)]
    assert first == [200] * 5 + [400] * 2
    assert {r["code"] for r in app.rejected} == {130429}
    clock.t += 1.0
    assert post_message(app, text()).status_code == 200


def test_control_endpoints_read_and_reset_the_record():
    clock = Ticker()
    app = FakeCloudAPI(time_source=clock)

    async def calls(c):
        for i in range(3):
            await c.post("/v23.0/1/messages", json=text(body=f"m{i}"))
            clock.t += 0.4
        page = (await c.get("/_fake/messages", params={"since": 1})).json()
        stats = (await c.get("/_fake/stats")).json()
        await c.post("/_fake/reset")
        after = (await c.get("/_fake/stats")).json()
        bad = await c.post("/_fake/config", content=b"{not json")
        return page, stats, after, bad.status_code

    page, stats, after, bad = run(app, calls)
    assert [m["body"]["text"]["body"] for m in page["messages"]] == ["m1", "m2"]
    assert page["next"] == 3
    assert stats["accepted"] == 3 and stats["max_in_1s"] == 3
    assert after["accepted"] == 0
    assert bad == 400


def test_templates_are_pending_then_approved_after_the_delay():
    clock = Ticker()
    app = FakeCloudAPI(FakeConfig(template_delay=60), time_source=clock)
    template = {
        "name": "day_opener",
        "language": "es",
        "category": "UTILITY",
        "components": [{"type": "BODY", "text": "Hola {{1}}"}],
    }

    async def calls(c):
        created = await c.post("/v23.0/200/message_templates", json=template)
        bad = await c.post("/v23.0/200/message_templates", json={**template, "name": "Día 1"})
        before = (await c.get("/v23.0/200/message_templates")).json()
        clock.t += 61
        after = (await c.get("/v23.0/200/message_templates", params={"name": "day_opener"})).json()
        return created, bad, before, after

    created, bad, before, after = run(app, calls)
    assert created.status_code == 200 and created.json()["status"] == "PENDING"
    assert bad.status_code == 400
    assert before["data"][0]["status"] == "PENDING"
    assert after["data"][0]["status"] == "APPROVED" and after["data"][0]["name"] == "day_opener"


def webhook_catcher(secret):
    posts = []

    def handler(request: httpx.Request) -> httpx.Response:
        expected = (
            "sha256=" + hmac.new(secret.encode(), request.content, hashlib.sha256).hexdigest()
        )
        assert request.headers["x-hub-signature-256"] == expected
        posts.append(json.loads(request.content))
        return httpx.Response(200)

    return posts, httpx.MockTransport(handler)


def test_status_callbacks_are_posted_signed_in_order():
    app = FakeCloudAPI(
        FakeConfig(webhook_url="http://patas/webhooks/whatsapp/", app_secret="s3cret")
    )
    posts, app.webhook_transport = webhook_catcher("s3cret")

    async def calls(c):
        await c.post("/v23.0/123/messages", json=text(to="51911"))
        await c.post("/v23.0/123/messages", json=text(to="51922"))
        return await flush_statuses(app)

    assert run(app, calls) == 3
    values = [p["entry"][0]["changes"][0]["value"] for p in posts]
    assert [v["statuses"][0]["status"] for v in values] == ["sent", "delivered", "read"]
    assert [s["recipient_id"] for s in values[0]["statuses"]] == ["51911", "51922"]
    assert values[0]["metadata"]["phone_number_id"] == "123"
    assert {s["id"] for s in values[2]["statuses"]} == {r["wamid"] for r in app.received}


def test_inbound_messages_are_posted_signed():
    app = FakeCloudAPI(
        FakeConfig(webhook_url="http://patas/webhooks/whatsapp/", app_secret="s3cret")
    )
    posts, app.webhook_transport = webhook_catcher("s3cret")

    async def calls(c):
        text_reply = await c.post("/_fake/inbound", json={"from": "51933", "text": "hola"})
        button = await c.post(
            "/_fake/inbound",
            json={
                "from": "51933",
                "user_id": "PE.123",
                "button_reply": {"id": "done", "title": "Listo"},
            },
        )
        missing = await c.post("/_fake/inbound", json={"text": "sin remitente"})
        return text_reply.json(), button.json(), missing.status_code

    first, second, missing = run(app, calls)
    assert first["webhook_status"] == 200 and missing == 400
    message = posts[0]["entry"][0]["changes"][0]["value"]["messages"][0]
    assert message["from"] == "51933" and message["text"]["body"] == "hola"
    assert message["id"] == first["id"]
    value = posts[1]["entry"][0]["changes"][0]["value"]
    assert value["messages"][0]["interactive"]["button_reply"]["id"] == "done"
    assert value["contacts"][0]["user_id"] == "PE.123"


def test_the_send_client_works_against_the_fake():
    app = FakeCloudAPI(FakeConfig(recipient_errors={"51900": 131047}))

    async def go():
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))
        client = CloudClient(http, base_url=URL, version="v23.0", phone_number_id="9", token="t")
        ok = await client.send("519", {"type": "text", "text": {"body": "hi"}})
        bad = await client.send("51900", {"type": "text", "text": {"body": "hi"}})
        await client.aclose()
        return ok, bad

    ok, bad = asyncio.run(go())
    assert ok.wamid == app.received[0]["wamid"]
    assert bad.error_code == 131047 and bad.verdict.action.value == "needs_template"


def test_recipient_error_option_parsing():
    from patas.whatsapp.management.commands.fake_whatsapp import parse_recipient_errors

    assert parse_recipient_errors("519001=131026, 519002=131047") == {
        "519001": 131026,
        "519002": 131047,
    }
    with pytest.raises(ValueError, match="TO=CODE"):
        parse_recipient_errors("519001:131026")


def test_the_limit_and_the_count_use_arrivals_not_handling_times():
    # A stalled fake handles three requests at once that arrived 0.6 s apart.
    clock = Ticker()
    app = FakeCloudAPI(FakeConfig(mps=2), time_source=clock)
    body = json.dumps(text()).encode()
    answers = [app.handle_send("1", body, None, arrived=clock.t - 1.2 + 0.6 * i) for i in range(3)]
    assert [status for status, _ in answers] == [200, 200, 200]  # never 3 in one second
    stats = app.stats()
    assert stats["max_in_1s"] == 2 and stats["max_in_1s_handled"] == 3
    assert app.handle_send("1", body, None, arrived=clock.t)[0] == 400  # a third in 1 s


def test_records_can_leave_bodies_out_and_pages_can_be_narrowed():
    app = FakeCloudAPI(FakeConfig(keep_bodies=False))

    async def calls(c):
        await c.post("/v23.0/1/messages", json=text(to="51911"))
        return (await c.get("/_fake/messages", params={"fields": "to,arrived"})).json()

    page = run(app, calls)
    assert app.received[0]["body"] is None
    assert page["messages"] == [{"to": "51911", "arrived": app.received[0]["arrived"]}]


def test_taking_what_was_received_hands_each_send_over_once_and_forgets_it():
    app = FakeCloudAPI()
    post_message(app, text(to="5191"))
    post_message(app, text(to="5192"))
    first = app.take_received()
    post_message(app, text(to="5193"))
    second = app.take_received()
    assert [r["to"] for r in first] == ["5191", "5192"]
    assert [r["to"] for r in second] == ["5193"]
    assert app.take_received() == [] and app.received == []
    assert app.taken == 3 and app.stats()["accepted"] == 0  # stats count what is still held


def test_each_number_has_its_own_limit_and_its_own_stats():
    """Meta limits each phone number on its own: A full does not refuse B."""
    clock = Ticker()
    app = FakeCloudAPI(FakeConfig(mps=3), time_source=clock)
    body = json.dumps(text()).encode()
    a = [app.handle_send("111", body, None)[0] for _ in range(4)]
    b = [app.handle_send("222", body, None)[0] for _ in range(3)]
    assert a == [200, 200, 200, 400] and b == [200, 200, 200]
    assert app.rejected[0]["phone_number_id"] == "111"
    by_number = app.stats()["by_number"]
    assert {n: (s["accepted"], s["rejected"], s["max_in_1s"]) for n, s in by_number.items()} == {
        "111": (3, 1, 3),
        "222": (3, 0, 3),
    }
    assert app.stats()["accepted"] == 6 and app.stats()["max_in_1s"] == 6
