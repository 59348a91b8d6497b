"""Read the raw SQLite file: encrypted columns are not plaintext; erasure leaves no trace."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .erase_scenario import NAME, PARTNER_PHONE, PHONE

SCRIPT = Path(__file__).with_name("erase_scenario.py")


def run(phase: str, env: dict[str, str]) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), phase],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def database_bytes(path: Path) -> bytes:
    """The database file and any journal beside it, as they are on disk."""
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


def found(blob: bytes, *values: str) -> list[str]:
    return [v for v in values if v.encode() in blob or v.encode("utf-16-le") in blob]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    src = str(Path(__file__).resolve().parents[2] / "src")
    return {
        **os.environ,
        "PATAS_DATA_DIR": str(tmp_path),
        "PATAS_DATABASE_URL": f"sqlite:///{tmp_path / 'erase.sqlite3'}",
        "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }


def test_encrypted_columns_and_erasure_in_the_database_file(
    env: dict[str, str], tmp_path: Path
) -> None:
    db = tmp_path / "erase.sqlite3"
    run("setup", env)
    # Phone, name and partner phone are stored encrypted: not in the file in clear.
    assert found(database_bytes(db), PHONE, NAME, PARTNER_PHONE) == []
    run("traffic", env)
    # His messages and the raw webhook body carry them in clear: the grep sees them.
    assert found(database_bytes(db), PHONE, NAME) == [PHONE, NAME]
    counts = run("erase", env)
    assert counts["messages"] == 2 and counts["webhook_events"] == 1
    assert found(database_bytes(db), PHONE, NAME, PARTNER_PHONE, "BSUID.777") == []
