"""The throwaway PostgreSQL server that the demo and the benchmarks start."""

from __future__ import annotations

import subprocess

import pytest
from sqlalchemy import create_engine, text

from soleflip_analytics.demo.server import LocalServer, LocalServerError, find_pg_cron


def test_a_server_with_its_database_settings_and_pg_cron_is_gone_afterwards() -> None:
    with LocalServer("shop_copy", settings={"work_mem": "12MB"}) as server:
        workdir = server.datadir.parent
        engine = create_engine(server.url)
        with engine.connect() as connection:
            database, work_mem, preloaded, listen = connection.execute(text(
                "SELECT current_database(), current_setting('work_mem'), "
                "current_setting('shared_preload_libraries'), "
                "current_setting('listen_addresses')"
            )).one()
        engine.dispose()
        assert (database, work_mem, listen) == ("shop_copy", "12MB", "127.0.0.1")
        assert ("pg_cron" in preloaded) == find_pg_cron(server.bindir)
        assert workdir.is_dir()
    assert not workdir.exists()


def test_a_server_that_cannot_start_says_why_and_leaves_nothing() -> None:
    server = LocalServer(settings={"shared_buffers": "lots"})
    with pytest.raises(LocalServerError, match="shared_buffers"):
        server.start()
    assert server.workdir is None


def test_stop_command_stops_a_kept_server() -> None:
    with LocalServer() as server:
        server.keep()
    workdir = server.datadir.parent
    assert workdir.is_dir()
    subprocess.run(server.stop_command(), shell=True, check=True, capture_output=True)
    assert not workdir.exists()
