"""What every end-to-end test in a real browser shares: Debian's Chromium driven by Playwright.

Fixtures `urls_loaded` and `open_page` live in tests/conftest.py; this module holds the plain
helpers and the marks, so each e2e module starts with `pytestmark = browser.MARKS`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# Headless in a container: no sandbox, no GPU, and nothing that would try to reach the network.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MARKS = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium"),
]


def log_in(page, base: str, username: str, password: str, *, lands_on: str = r".*/groups/$"):
    """Log in through the console's own form and wait for the page it lands on."""
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form button[type=submit] >> nth=-1")
    page.wait_for_url(re.compile(lands_on))
