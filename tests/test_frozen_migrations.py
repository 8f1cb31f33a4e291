"""Released revisions do the same thing forever: a stored record of what each one sends.

Every revision is applied one by one on a fresh database, then reverted one
by one; each step's SQL statements, as the driver sends them (files, verbs,
grants, pg_cron calls, bound parameters included), are recorded, normalised and
hashed, and compared with ``tests/frozen_revisions.json``: one short hash per
statement, per revision and direction. Editing a released view, routine or
schema file, a privilege list, the contract or the schedule logic a revision
uses changes a hash and fails this test, naming the revision and the first
statement that differs. Moving SQL between files does not: statements are
compared, not files (comments outside statements and whitespace are dropped).

What depends on the environment is normalised: the database, the deploying
role and the package's role names, savepoint names. The database is pg_cron's
own (``cron.database_name``), so 0010 creates the extension and schedules the
jobs in the migration's connection on every PostgreSQL major. Queries Alembic
and SQLAlchemy make about the version table are left out (they belong to
their versions, not to ours), and so is the deploy's own bookkeeping, which
``migrations/env.py`` marks (it logs the views a deploy built as refreshes).

A NEW revision: add it, then record it with

    SOLEFLIP_ANALYTICS_RECORD_NEW_REVISIONS=1 python -m pytest tests/test_frozen_migrations.py

which adds entries only for revisions the file lacks, never rewriting a stored
one, and commit the file with the revision. Until the revision is released
you may delete its two entries and record again; a released revision's entries
are never regenerated: a change to what it does belongs in a new revision.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg2.extensions
import pytest
from alembic import command
from alembic.script import ScriptDirectory
from conftest import CRON_DATABASE
from sqlalchemy import create_engine, make_url, pool
from sqlalchemy.engine import Engine

from soleflip_analytics.deploy import alembic_config
from soleflip_analytics.names import DEPLOY_BOOKKEEPING_MARK, VERSION_TABLE

STORED = Path(__file__).with_name("frozen_revisions.json")
RECORD_NEW = "SOLEFLIP_ANALYTICS_RECORD_NEW_REVISIONS"
_HASH_CHARS = 16


class _RecordingCursor(psycopg2.extensions.cursor):
    def execute(self, query, vars=None):  # noqa: A002 (psycopg2's own signature)
        self.connection.sent.append(self.mogrify(query, vars).decode())
        return super().execute(query, vars)


class _RecordingConnection(psycopg2.extensions.connection):
    """A psycopg2 connection that keeps every statement its cursors send."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.sent: list[str] = []
        self.cursor_factory = _RecordingCursor


# Outside statements: comments and whitespace; inside them, quoted text stays as it is.
_TOKEN = re.compile(
    r"""(?P<quoted>'(?:[^']|'')*'|"(?:[^"]|"")*"|(?P<dollar>\$[A-Za-z_]*\$)[\s\S]*?(?P=dollar))
      |(?P<comment>--[^\n]*|/\*[\s\S]*?\*/)
      |(?P<space>\s+)
      |(?P<end>;)
      |(?P<other>[^'"$;\s/-]+|[\s\S])""",
    re.VERBOSE,
)


def split_statements(sql: str) -> list[str]:
    """The statements of a script, without comments, whitespace collapsed."""
    statements: list[str] = []
    current = ""
    for token in _TOKEN.finditer(sql):
        if token["comment"] or token["space"]:
            current += " " if current and not current.endswith(" ") else ""
        elif token["end"]:
            if current.strip():
                statements.append(current.strip())
            current = ""
        else:
            current += token[0]
    if current.strip():
        statements.append(current.strip())
    return statements


def _normaliser(names: dict[str, str]) -> Callable[[str], str]:
    alternatives = "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))
    pattern = re.compile(rf"(?<![\w$])(?:{alternatives})(?![\w$])")

    def normalise(statement: str) -> str:
        statement = pattern.sub(lambda match: names[match[0]], statement)
        return re.sub(r"sa_savepoint_\d+", "sa_savepoint_N", statement)

    return normalise


def _digest(statement: str) -> str:
    return hashlib.sha256(statement.encode()).hexdigest()[:_HASH_CHARS]


def _steps() -> list[tuple[str, str, str]]:
    """(key, direction, target): every revision up from base, then down again."""
    script = ScriptDirectory.from_config(alembic_config())
    revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
    up = [(f"{r} up", "upgrade", r) for r in revisions]
    down = [(f"{r} down", "downgrade", previous)
            for r, previous in zip(revisions[::-1], [*revisions[-2::-1], "base"], strict=True)]
    return up + down


@pytest.fixture
def recording_engine(make_database: Callable[..., str]) -> Iterator[Engine]:
    url = make_url(make_database(name=CRON_DATABASE)).set(drivername="postgresql+psycopg2")
    engine = create_engine(url, poolclass=pool.NullPool,
                           connect_args={"connection_factory": _RecordingConnection})
    yield engine
    engine.dispose()


def record_revisions(engine: Engine) -> dict[str, list[str]]:
    """Statement hashes of every step (``"0011 up"``, ``"0011 down"``, ...)."""
    suffix = uuid.uuid4().hex[:8]
    roles = {"reader_role": f"frozen_reader_{suffix}",
             "refresher_role": f"frozen_refresher_{suffix}"}
    recorded: dict[str, list[str]] = {}
    for key, direction, target in _steps():
        with engine.connect() as connection:
            raw = connection.connection.dbapi_connection
            database, deployer = connection.exec_driver_sql(
                "SELECT current_database(), current_user").one()
            normalise = _normaliser({database: "<database>", deployer: "<deployer>",
                                     roles["reader_role"]: "<reader>",
                                     roles["refresher_role"]: "<refresher>"})
            raw.sent.clear()
            config = alembic_config()
            config.attributes.update(roles, connection=connection)
            getattr(command, direction)(config, target)
            connection.commit()
            statements = [normalise(statement)
                          for sent in raw.sent
                          if VERSION_TABLE not in sent and DEPLOY_BOOKKEEPING_MARK not in sent
                          for statement in split_statements(sent)]
        recorded[key] = [_digest(statement) for statement in statements]
        recorded[key + " text"] = statements  # for the failure message only
    return recorded


def test_released_revisions_send_what_they_always_sent(recording_engine: Engine) -> None:
    recorded = record_revisions(recording_engine)
    stored: dict[str, list[str]] = json.loads(STORED.read_text()) if STORED.exists() else {}
    keys = [key for key, _, _ in _steps()]
    missing = [key for key in keys if key not in stored]
    if missing and os.environ.get(RECORD_NEW):
        stored.update({key: recorded[key] for key in missing})
        STORED.write_text(json.dumps({key: stored[key] for key in sorted(stored)}, indent=1)
                          + "\n")
        pytest.skip(f"recorded {', '.join(missing)} in {STORED.name}: commit it")
    assert not missing, (
        f"{STORED.name} has no record of {', '.join(missing)}: record a new revision with "
        f"{RECORD_NEW}=1 (see this test's docstring)"
    )
    for key in keys:
        if recorded[key] == stored[key]:
            continue
        at = next((i for i, (a, b) in enumerate(zip(recorded[key], stored[key], strict=False))
                   if a != b),
                  min(len(recorded[key]), len(stored[key])))
        now = recorded[key + " text"][at] if at < len(recorded[key]) else "(nothing)"
        pytest.fail(
            f"released revision step {key!r} no longer sends what it did: statement {at + 1} "
            f"of {len(recorded[key])} (stored: {len(stored[key])}) differs; it is now:\n"
            f"{now[:2000]}\nA released revision must do the same forever: restore what "
            "it used and put the change in a new revision."
        )
