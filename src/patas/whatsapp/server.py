"""The web process: Django's ASGI app (webhook, console, static files) under uvicorn.

`run_web` blocks (the `patas web` command); `make_server` returns an un-started uvicorn server
for a caller that runs it inside its own event loop next to other work (`patas serve`).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import uvicorn

APP_FACTORY = "patas.whatsapp.server:application"


def _load_django() -> tuple[Any, str]:
    """Django set up and its URLconf loaded (heavy: done before serving, not on a request)."""
    from django.core.asgi import get_asgi_application
    from django.urls import reverse

    django_app = get_asgi_application()
    return django_app, reverse("whatsapp:webhook")


def application() -> Any:
    """The ASGI app: Django (with the console's static files served by Django's own handler),
    behind the webhook's fast path for POST deliveries (see `patas.whatsapp.fastpath`)."""
    # In a plain thread: a spawned worker calls this factory inside its event loop, where
    # anything touching the database at import time would be refused.
    with ThreadPoolExecutor(1) as pool:
        django_app, webhook_path = pool.submit(_load_django).result()

    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    from patas.whatsapp.fastpath import WebhookFastPath

    static_and_django = ASGIStaticFilesHandler(django_app)
    return WebhookFastPath(static_and_django, webhook_path)  # type: ignore[arg-type]


def _options(host: str, port: int, log_level: str) -> dict[str, Any]:
    return {
        "host": host,
        "port": port,
        "log_level": log_level,
        "access_log": False,  # one line per webhook would cost more than the webhook itself
        "lifespan": "off",  # Django's ASGI handler does not speak the lifespan protocol
        "server_header": False,
        "timeout_graceful_shutdown": 10,
    }


def make_server(
    host: str = "127.0.0.1", port: int = 8000, *, log_level: str = "warning"
) -> uvicorn.Server:
    """A server for one process; `await server.serve()` runs it, `server.should_exit` stops it."""
    config = uvicorn.Config(application(), **_options(host, port, log_level))
    return uvicorn.Server(config)


def run_web(
    host: str = "127.0.0.1", port: int = 8000, workers: int = 1, *, log_level: str = "warning"
) -> None:
    """Serve until interrupted; with workers > 1 uvicorn forks that many processes."""
    if workers < 1:
        raise ValueError("workers must be at least 1")
    if workers == 1:
        make_server(host, port, log_level=log_level).run()
        return
    uvicorn.run(APP_FACTORY, factory=True, workers=workers, **_options(host, port, log_level))
