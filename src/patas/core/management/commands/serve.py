"""`patas serve`: migrate, then run the web server and one worker together (one machine)."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

log = logging.getLogger(__name__)
RESTART_PAUSE = 2.0  # seconds before a dead worker is started again


class WorkerKeeper:
    """Keeps one `patas worker` child process running until told to stop."""

    def __init__(self, command: list[str]) -> None:
        self.command = command
        self.process: subprocess.Popen[bytes] | None = None
        self.stopping = threading.Event()
        self.restarts = 0
        self.thread = threading.Thread(target=self._watch, name="patas-worker-keeper", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _watch(self) -> None:
        while not self.stopping.is_set():
            self.process = subprocess.Popen(self.command)
            code = self.process.wait()
            if self.stopping.is_set():
                return
            self.restarts += 1
            log.error("the worker exited with code %s; starting it again", code)
            self.stopping.wait(RESTART_PAUSE)

    def stop(self, timeout: float = 30.0) -> None:
        self.stopping.set()
        process = self.process
        if process is not None and process.poll() is None:
            process.terminate()  # SIGTERM: the worker finishes the requests under way
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
        self.thread.join(timeout=5)


def _exit_on_signal(signum: int, frame: Any) -> None:
    raise SystemExit(0)


def worker_command() -> list[str]:
    return [sys.executable, "-m", "patas", "worker"]


class Command(BaseCommand):
    help = _("Migrate the database, then run the web server and a worker together.")
    # Some checks read the database: they run after the migrations instead (handle).
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--no-migrate", action="store_true", help=_("do not run migrations first")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not 0 < options["port"] < 65536:
            raise CommandError(_("--port must be between 1 and 65535"))
        if not options["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=0)
        call_command("check")
        from patas.whatsapp.server import run_web

        keeper = WorkerKeeper(worker_command())
        keeper.start()
        self.stdout.write(
            _("patas on http://%(host)s:%(port)s (web and worker)")
            % {"host": options["host"], "port": options["port"]}
        )
        self.stdout.flush()
        started = time.monotonic()
        # uvicorn re-raises SIGTERM after its graceful shutdown; turn it into SystemExit so the
        # worker child is stopped too (the default action would end this process at once).
        signal.signal(signal.SIGTERM, _exit_on_signal)
        try:
            run_web(options["host"], options["port"])
        finally:
            keeper.stop()
            log.info("patas serve stopped after %.0f s", time.monotonic() - started)
