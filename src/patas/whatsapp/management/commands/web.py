"""`patas web`: serve the webhook, the console and static files with uvicorn."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils.translation import gettext as _

from patas.whatsapp.server import run_web


class Command(BaseCommand):
    help = _("Serve the WhatsApp webhook and the console (uvicorn, ASGI).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help=_("address to listen on"))
        parser.add_argument("--port", type=int, default=8000, help=_("port to listen on"))
        parser.add_argument(
            "--workers",
            type=int,
            default=1,
            help=_("processes to run (1 suits SQLite; more for PostgreSQL)"),
        )
        parser.add_argument(
            "--log-level",
            default="warning",
            choices=["critical", "error", "warning", "info", "debug"],
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["workers"] < 1:
            raise CommandError(_("--workers must be at least 1"))
        if not 0 < options["port"] < 65536:
            raise CommandError(_("--port must be between 1 and 65535"))
        if options["workers"] > 1 and connection.vendor == "sqlite":
            self.stderr.write(
                _(
                    "warning: several web workers on SQLite contend for its single write lock"
                    " and answer far slower; use --workers 1, or PostgreSQL"
                )
            )
        self.stdout.write(
            _("patas web on http://%(host)s:%(port)s with %(workers)s worker(s)")
            % {"host": options["host"], "port": options["port"], "workers": options["workers"]}
        )
        run_web(
            options["host"], options["port"], options["workers"], log_level=options["log_level"]
        )
