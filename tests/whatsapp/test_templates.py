import asyncio

import httpx
import pytest

from patas.programs.schema import Template
from patas.whatsapp import templates
from patas.whatsapp.fake import FakeCloudAPI, FakeConfig, in_process_transport


class Clock:
    t = 1000.0

    def __call__(self) -> float:
        return self.t


class FakeProgram:
    templates = {
        "day_opener": Template(
            name="hep_day_opener",
            category="utility",
            language_codes={"es": "es_PE", "en": "en_US"},
            body={"es": "Hola, ya está listo el día {{1}}", "en": "Day {{1}} is ready"},
            button={"es": "Vamos", "en": "Let's go"},
        )
    }


def run(coro_fn, fake):
    async def go():
        async with httpx.AsyncClient(
            transport=in_process_transport(fake), base_url="http://fake"
        ) as client:
            return await coro_fn(FakeProgram(), client)

    return asyncio.run(go())


def test_definition_carries_examples_and_the_button():
    d = templates.definition("t", "utility", "es_PE", "Día {{1}} de {{2}}", "Vamos")
    assert d["category"] == "UTILITY"
    assert d["components"][0]["example"] == {"body_text": [["ejemplo1", "ejemplo2"]]}
    assert d["components"][1]["buttons"] == [{"type": "QUICK_REPLY", "text": "Vamos"}]


def test_push_then_status_until_approved(settings):
    settings.WHATSAPP_API_URL = "http://fake"
    clock = Clock()
    fake = FakeCloudAPI(FakeConfig(template_delay=60), time_source=clock)
    before = run(templates.status, fake)
    assert {s.status for s in before} == {"MISSING"}
    pushed = run(templates.push, fake)
    assert sorted((s.language, s.status) for s in pushed) == [
        ("en_US", "PENDING"),
        ("es_PE", "PENDING"),
    ]
    assert run(templates.push, fake) == []  # nothing submitted twice
    assert {s.status for s in run(templates.status, fake)} == {"PENDING"}
    clock.t += 61
    assert {s.status for s in run(templates.status, fake)} == {"APPROVED"}


def test_a_refused_template_names_itself(settings):
    settings.WHATSAPP_API_URL = "http://fake"
    FakeProgram.templates["bad"] = Template(
        name="Bad Name", language_codes={"es": "es_PE"}, body={"es": "x"}
    )
    try:
        with pytest.raises(RuntimeError, match="Bad Name"):
            run(templates.push, FakeCloudAPI())
    finally:
        del FakeProgram.templates["bad"]
