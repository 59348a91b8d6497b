"""The dispatcher paces sends on the number's schedule, on virtual time (no database, no sleeping).

The fake Cloud API runs in process on the same virtual clock, so what it counts is what the
dispatcher sent; a fake whose limit is the configured rate refuses nothing.
"""

from __future__ import annotations

import asyncio

import httpx

from patas.messaging.claim import Claimed
from patas.messaging.dispatch import Dispatcher, InstantPace, max_in_flight_for, send_all
from patas.messaging.ratelimit import burst, max_in_window
from patas.whatsapp.client import CloudClient
from patas.whatsapp.fake import FakeCloudAPI, FakeConfig


def rows(count: int) -> list[Claimed]:
    payload = {"type": "text", "text": {"body": "hola"}}
    return [Claimed(i, i, f"519{i:08d}", payload, 0, "program") for i in range(count)]


def fake_client(mps: float) -> tuple[FakeCloudAPI, CloudClient, InstantPace]:
    pace = InstantPace(start=100.0)
    app = FakeCloudAPI(FakeConfig(mps=mps), time_source=pace.monotonic)
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))  # type: ignore[arg-type]
    client = CloudClient(
        http, base_url="http://fake", version="v23.0", phone_number_id="1", token="t"
    )
    return app, client, pace


def test_full_rate_evenly_spaced_and_never_over_the_fakes_limit():
    app, client, pace = fake_client(200)
    outcomes = asyncio.run(send_all(client, rows(600), mps=200, pace=pace))
    sent_at = [o.at for o in outcomes]
    assert all(o.result is not None and o.result.ok for o in outcomes)
    assert app.rejected == []
    assert max_in_window(sent_at) <= 199  # the ceiling: 200 less the margin, less one
    assert app.stats()["max_in_1s"] <= 199
    assert max_in_window(sent_at, 0.05) <= 10 + burst(200)
    rate = (len(sent_at) - 1) / (max(sent_at) - min(sent_at))
    assert rate >= 199 * 0.999


def test_rows_submitted_late_start_on_the_schedule_without_a_burst():
    _, client, pace = fake_client(200)
    got = []

    async def go():
        dispatcher = Dispatcher(client, got.append, mps=200, pace=pace)
        dispatcher.submit(rows(100))
        await dispatcher.drain()
        await pace.sleep(0.5)  # nothing to send for 500 ms (the claim was slow)
        resumed = pace.monotonic()
        dispatcher.submit(rows(300)[100:])
        await dispatcher.drain()
        return resumed

    resumed = asyncio.run(go())
    after = sorted(o.at for o in got if o.at >= resumed)
    assert len(after) == 200
    # at most the small catch-up, then the schedule's pace (10 per 50 ms)
    assert max_in_window(after, 0.05) <= 10 + burst(200)
    assert max_in_window(after, 1e-9) <= burst(200)


def test_requests_in_flight_allow_a_quarter_second_answer_at_full_rate():
    assert max_in_flight_for(80) == 64
    assert max_in_flight_for(1000) == 250
