"""Whatever a user types wrong: one line saying what to do, never a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import port_for
import pytest
from pytest_postgresql.executors import PostgreSQLExecutor
from sqlalchemy.exc import OperationalError

from soleflip_analytics import check_health, db, view_status

ROOT = Path(__file__).resolve().parent.parent


def alembic(*arguments: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return subprocess.run(
        [sys.executable, "-m", "alembic", *arguments], cwd=ROOT, env=environment,
        capture_output=True, text=True, timeout=120,
    )


def assert_one_line(result: subprocess.CompletedProcess[str], code: int, *expected: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == code, output
    assert "Traceback" not in output and len(output.strip().splitlines()) == 1, output
    for text in expected:
        assert text in output, output


@pytest.mark.parametrize(("url", "expected"), [
    (None, "No database URL: set DATABASE_URL"),
    ("mysql://shop@localhost/shop", "unsupported database URL mysql://"),
    ("postgresql://u:p@[::1/shop", "malformed database URL"),
])
def test_alembic_without_a_usable_url(url: str | None, expected: str) -> None:
    arguments = ["-x", f"url={url}"] if url else []
    assert_one_line(alembic(*arguments, "upgrade", "head"), 1, expected)


def test_alembic_with_an_unreachable_server() -> None:
    url = f"postgresql://shop@127.0.0.1:{port_for.select_random()}/shop"
    assert_one_line(alembic("-x", f"url={url}", "upgrade", "head"), 1,
                    "cannot connect to postgresql://shop@127.0.0.1", "Connection refused")


def test_alembic_with_a_missing_database(pg_server: PostgreSQLExecutor) -> None:
    url = f"postgresql://{pg_server.user}@{pg_server.host}:{pg_server.port}/no_such_shop"
    assert_one_line(alembic("-x", f"url={url}", "upgrade", "head"), 1,
                    "cannot connect to", 'database "no_such_shop" does not exist')


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A URL of a server that accepts connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield f"postgresql://shop@127.0.0.1:{listener.getsockname()[1]}/shop"


def test_the_library_gives_up_on_a_silent_server(silent_server: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db, "CONNECT_TIMEOUT", 1)  # instead of waiting the 10 s default
    with pytest.raises(OperationalError, match="timeout expired"):
        check_health(silent_server)


def test_a_connect_timeout_in_the_url_wins(silent_server: str) -> None:
    with pytest.raises(OperationalError, match="timeout expired"):
        view_status(f"{silent_server}?connect_timeout=1")
