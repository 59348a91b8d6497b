"""`patas worker`: run periodic jobs, route inbound messages and send the outbox."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from patas.core.worker import Worker


class Command(BaseCommand):
    help = _("Run the worker: periodic jobs, inbound routing and the outbox sender.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", default=None, help=_("this worker's name in leases"))
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--once", action="store_true", help=_("do one pass and exit"))
        mode.add_argument(
            "--until-idle",
            action="store_true",
            help=_("work until nothing is left to do, then exit"),
        )
        parser.add_argument(
            "--no-send", action="store_true", help=_("do not run the outbox sender in this worker")
        )

        parser.add_argument(
            "--metrics-port",
            type=int,
            default=0,
            help=_("serve this worker's Prometheus metrics (sends, errors by code) on this port"),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["metrics_port"]:
            from prometheus_client import start_http_server

            from patas.core.metrics import REGISTRY

            start_http_server(options["metrics_port"], addr="127.0.0.1", registry=REGISTRY)
        worker = Worker(options["name"], send=not options["no_send"])
        if options["once"]:
            report = worker.tick()
            self.stdout.write(
                _("routed %(routed)s, jobs %(jobs)s, outbox %(sent)s")
                % {"routed": report.routed, "jobs": len(report.jobs), "sent": report.sent}
            )
            return
        worker.run(until_idle=options["until_idle"])
