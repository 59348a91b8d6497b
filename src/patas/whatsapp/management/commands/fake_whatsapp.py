"""`patas fake-whatsapp`: serve the fake Cloud API on loopback (tests, simulator, benchmarks).

By default it runs under `fake_server.FakeServer`, which stamps each send with the kernel's
receive time (what Meta would count); `--server uvicorn` runs the ASGI app under uvicorn as
before (sends are then stamped when handled).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import uvicorn
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from patas.whatsapp.fake import FakeCloudAPI, FakeConfig, parse_error_rates
from patas.whatsapp.fake_server import FakeServer


def parse_recipient_errors(text: str) -> dict[str, int]:
    """'51900000001=131026,51900000002=131047' -> {to: code}."""
    result: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        to, sep, code = part.partition("=")
        if not sep or not code.isdigit() or not to:
            raise ValueError(f"bad recipient error {part!r}: expected TO=CODE")
        result[to] = int(code)
    return result


class Command(BaseCommand):
    help = _("Serve a fake WhatsApp Cloud API (send API, templates, webhook posts) for testing.")
    requires_system_checks: list[str] = []  # it needs no database and no URL configuration

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8099)
        parser.add_argument(
            "--error-rate",
            default="",
            help=_("CODE=RATE,... e.g. 130429=0.05,131026=0.01,500=0.02"),
        )
        parser.add_argument(
            "--recipient-error",
            default="",
            help=_("TO=CODE,... recipients that always get that error"),
        )
        parser.add_argument(
            "--mps",
            type=float,
            default=0.0,
            help=_("throughput limit: answer 130429 above this per second"),
        )
        parser.add_argument("--webhook", default="", help=_("URL to post statuses and inbound to"))
        parser.add_argument("--app-secret", default="dev-app-secret")
        parser.add_argument(
            "--statuses",
            default="sent,delivered,read",
            help=_("status callbacks to post for each message ('' for none)"),
        )
        parser.add_argument("--token", default="", help=_("require this bearer token"))
        parser.add_argument(
            "--template-delay",
            type=float,
            default=0.0,
            help=_("seconds before a new template is APPROVED"),
        )
        parser.add_argument("--seed", type=int, default=None)
        parser.add_argument(
            "--server",
            choices=["lean", "uvicorn"],
            default="lean",
            help=_("lean: stamps arrivals with the kernel's receive time (default); uvicorn"),
        )
        parser.add_argument(
            "--no-bodies",
            action="store_true",
            help=_("do not keep request bodies in the record (long runs: less memory)"),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            config = FakeConfig(
                token=options["token"] or None,
                error_rates=parse_error_rates(options["error_rate"]),
                recipient_errors=parse_recipient_errors(options["recipient_error"]),
                mps=options["mps"] or None,
                webhook_url=options["webhook"] or None,
                app_secret=options["app_secret"],
                statuses=tuple(s for s in options["statuses"].split(",") if s),
                template_delay=options["template_delay"],
                seed=options["seed"],
                keep_bodies=not options["no_bodies"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if not 0 < options["port"] < 65536:
            raise CommandError(_("--port must be between 1 and 65535"))
        app = FakeCloudAPI(config)
        app.auto_flush = True  # type: ignore[attr-defined]
        self.stdout.write(
            _("fake WhatsApp Cloud API on http://%(host)s:%(port)s")
            % {"host": options["host"], "port": options["port"]}
        )
        self.stdout.flush()
        if options["server"] == "lean":
            with contextlib.suppress(KeyboardInterrupt):
                asyncio.run(FakeServer(app, options["host"], options["port"]).serve())
            return
        uvicorn.run(
            app,
            host=options["host"],
            port=options["port"],
            log_level="warning",
            access_log=False,
            lifespan="on",
            server_header=False,
        )
