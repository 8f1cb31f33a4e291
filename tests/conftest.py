"""Throwaway PostgreSQL for the tests, started by pytest-postgresql.

One server per test session, with pg_cron preloaded (and, for the tests that
need one, a second server without it). Each test that needs a database gets a
fresh one. The tests that need a hot standby get a primary and its standby
(LocalServer, pg_basebackup -R), once per session, and a fresh database there.
When the tests run as root (CI does), the server runs as the unprivileged
``postgres`` user, because initdb refuses root.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import port_for
import pytest
from pytest_postgresql.executors import PostgreSQLExecutor
from pytest_postgresql.janitor import DatabaseJanitor
from refresh_support import scalar, wait_until
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import Engine

from soleflip_analytics import upgrade
from soleflip_analytics.demo import create_source_contract
from soleflip_analytics.demo.server import LocalServer, find_pg_cron
from soleflip_analytics.paths import sql_dir

SERVER_USER = "postgres"  # the unprivileged OS account that runs the server as root
CRON_DATABASE = "cron_tests"


def _pg_bindir() -> Path:
    if os.environ.get("PG_BINDIR"):
        return Path(os.environ["PG_BINDIR"])
    on_path = shutil.which("pg_ctl")
    if on_path:
        return Path(on_path).parent
    return Path(subprocess.check_output(["pg_config", "--bindir"], text=True).strip())


def _pg_ctl(workdir: Path) -> str:
    """pg_ctl, wrapped to run as the unprivileged user when we are root."""
    pg_ctl = _pg_bindir() / "pg_ctl"
    if os.geteuid() != 0:
        return str(pg_ctl)
    wrapper = workdir / "pg_ctl"
    wrapper.write_text(f'#!/bin/sh\nexec runuser -u {SERVER_USER} -- "{pg_ctl}" "$@"\n')
    wrapper.chmod(0o755)
    return str(wrapper)


@contextmanager
def _server(settings: str) -> Iterator[PostgreSQLExecutor]:
    """A throwaway server with these ``-c`` settings, stopped and deleted afterwards."""
    workdir = Path(tempfile.mkdtemp(prefix="soleflip-analytics-pg-"))
    if os.geteuid() == 0:
        account = pwd.getpwnam(SERVER_USER)
        os.chown(workdir, account.pw_uid, account.pw_gid)
    executor = PostgreSQLExecutor(
        executable=_pg_ctl(workdir),
        host="127.0.0.1",
        port=port_for.select_random(),
        datadir=str(workdir / "data"),
        unixsocketdir=str(workdir),
        logfile=str(workdir / "server.log"),
        startparams="-w",
        dbname="postgres",
        postgres_options=(
            f"{settings} -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        ),
    )
    executor.start()
    try:
        yield executor
    finally:
        executor.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgreSQLExecutor]:
    """The server with pg_cron preloaded. A server named by PG_BINDIR may lack pg_cron
    (CI runs the core tests on other majors that way); then only the tests that need
    pg_cron fail."""
    if not find_pg_cron((_pg_bindir() / "pg_ctl").resolve().parent):
        if not os.environ.get("PG_BINDIR"):
            pytest.fail("pg_cron is not installed for this PostgreSQL server: the schedule "
                        "tests need it (Debian: apt-get install postgresql-15-cron)")
        with _server("") as server:
            yield server
        return
    with _server(
        f"-c shared_preload_libraries=pg_cron -c cron.database_name={CRON_DATABASE}"
    ) as server:
        yield server


@pytest.fixture(scope="session")
def pg_server_without_pg_cron() -> Iterator[PostgreSQLExecutor]:
    with _server("") as server:
        yield server


_database_numbers = itertools.count()


def _databases(server: PostgreSQLExecutor) -> Iterator[Callable[..., str]]:
    janitors: list[DatabaseJanitor] = []

    def make(contract: bool = True, name: str | None = None) -> str:
        janitor = DatabaseJanitor(
            user=server.user,
            host=server.host,
            port=server.port,
            dbname=name or f"test_{os.getpid()}_{next(_database_numbers)}",
        )
        janitor.init()
        janitors.append(janitor)
        if contract:
            janitor.load(sql_dir() / "source_contract.sql")
        return f"postgresql://{server.user}@{server.host}:{server.port}/{janitor.dbname}"

    yield make
    for janitor in janitors:
        janitor.drop()


@pytest.fixture
def make_database(pg_server: PostgreSQLExecutor) -> Iterator[Callable[..., str]]:
    """Create fresh databases for one test: ``make_database(contract=True) -> url``."""
    yield from _databases(pg_server)


@pytest.fixture
def make_database_without_pg_cron(
    pg_server_without_pg_cron: PostgreSQLExecutor,
) -> Iterator[Callable[..., str]]:
    """make_database() on a server that does not preload pg_cron."""
    yield from _databases(pg_server_without_pg_cron)


@pytest.fixture
def running_pg_cron(pg_server: PostgreSQLExecutor, make_database: Callable[..., str]) -> str:
    """A fresh pg_cron database (cron.database_name, with the source contract) with
    pg_cron's launcher connected to it, so that jobs really run.

    The launcher exits for good when its database is dropped, as every test's
    cleanup does; then the server is restarted to start it again.
    """
    url = make_database(name=CRON_DATABASE)
    engine = create_engine(url, poolclass=pool.NullPool)
    launcher = ("SELECT EXISTS (SELECT FROM pg_stat_activity "
                "WHERE backend_type = 'pg_cron launcher' AND datname = current_database())")
    try:
        if not scalar(engine, launcher):
            pg_server.stop()
            pg_server.start()
        wait_until(lambda: scalar(engine, launcher), timeout=30, interval=0.1)
    finally:
        engine.dispose()
    return url


@pytest.fixture
def source_url(make_database: Callable[..., str]) -> str:
    """A fresh database holding the source contract, empty."""
    return make_database()


@pytest.fixture
def source_engine(source_url: str) -> Iterator[Engine]:
    engine = create_engine(source_url)
    yield engine
    engine.dispose()


@pytest.fixture
def migrated_engine(source_url: str, source_engine: Engine) -> Engine:
    """A fresh database with the source contract and every migration applied."""
    upgrade(source_url)
    return source_engine


@dataclass(frozen=True)
class Replicated:
    """A database on the primary and the same database read on its hot standby."""

    primary_url: str
    standby_url: str
    standby: LocalServer

    def wait_for_replay(self) -> None:
        """Return once the standby shows everything the primary wrote so far."""
        self.standby.wait_for_replay()


@pytest.fixture(scope="session")
def hot_standby() -> Iterator[LocalServer]:
    """A hot standby (PostgreSQL's default standby settings) of a throwaway primary
    (its ``primary`` attribute), both on 127.0.0.1, stopped and deleted afterwards."""
    with LocalServer(pg_cron=False) as primary, primary.standby() as standby:
        yield standby


@pytest.fixture
def replicated_database(hot_standby: LocalServer) -> Iterator[Replicated]:
    """A fresh database with the source contract on the primary, replayed on the standby."""
    primary = hot_standby.primary
    assert primary is not None
    name = f"test_{os.getpid()}_{next(_database_numbers)}"
    admin = create_engine(primary.url_for("postgres"), isolation_level="AUTOCOMMIT",
                          poolclass=pool.NullPool)
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        create_source_contract(primary.url_for(name))
        hot_standby.wait_for_replay()
        yield Replicated(primary.url_for(name), hot_standby.url_for(name), hot_standby)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.dispose()
