"""Run the packaged migrations from application code or the command line.

Every way of deploying (``soleflip_analytics.upgrade``, the CLI's ``db``
commands, the API's ``POST /views/create``) goes through ``upgrade`` and
``downgrade`` here, on a URL or on the caller's connection.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from soleflip_analytics.names import (
    OPTIONS,
    READER,
    REFRESHER,
    STRICT_SCHEDULES_OPTION,
    VERSION_TABLE,
    VERSION_TABLE_SCHEMA,
)
from soleflip_analytics.paths import migrations_dir


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config for the packaged migrations (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    if url is not None:
        # Kept out of the ini options, where '%' in a password would be interpolated.
        config.attributes["url"] = url
    return config


def _config(bind: str | Connection | None) -> Config:
    """The config for a URL (None: DATABASE_URL), or to run on the caller's connection.

    On a connection the migrations run inside the caller's transaction, which
    commits or rolls them back.
    """
    if isinstance(bind, Connection):
        config = alembic_config()
        config.attributes["connection"] = bind
        return config
    return alembic_config(bind)


def current_revision(connection: Connection) -> str | None:
    """The revision deployed in the database, or None when nothing is."""
    context = MigrationContext.configure(
        connection,
        opts={"version_table": VERSION_TABLE, "version_table_schema": VERSION_TABLE_SCHEMA},
    )
    return context.get_current_revision()


def head_revision() -> str:
    """The newest revision the package ships."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the package ships no migrations"
    return head


def upgrade(
    url: str | Connection | None = None,
    revision: str = "head",
    *,
    reader_role: str | None = None,
    refresher_role: str | None = None,
    strict_schedules: bool | None = None,
) -> None:
    """Apply the migrations up to ``revision``, each revision committing on its own
    (docs/deploy.md, "Online deploys").

    ``url`` is a database URL (default: DATABASE_URL), or a Connection: one
    outside a transaction gets a transaction per revision, one inside a
    transaction runs them all in it.

    ``reader_role`` and ``refresher_role`` name the roles revision 0011 grants
    to (default: SOLEFLIP_ANALYTICS_READER_ROLE / SOLEFLIP_ANALYTICS_REFRESHER_ROLE,
    else metabase_reader / analytics_refresher); see soleflip_analytics.roles.

    ``strict_schedules`` True fails the upgrade, changing nothing, when revision
    0010 cannot install the refresh schedules in pg_cron; False only warns; None
    (the default) follows SOLEFLIP_ANALYTICS_STRICT_SCHEDULES, else warns.
    """
    config = _config(url)
    for purpose, name in ((READER, reader_role), (REFRESHER, refresher_role)):
        if name is not None:
            config.attributes[OPTIONS[purpose]] = name
    if strict_schedules is not None:
        config.attributes[STRICT_SCHEDULES_OPTION] = strict_schedules
    command.upgrade(config, revision)


def downgrade(url: str | Connection | None = None, revision: str = "base") -> None:
    """Revert the migrations down to ``revision`` ("base" removes everything)."""
    command.downgrade(_config(url), revision)


def history() -> None:
    """Print the packaged migrations, newest first."""
    command.history(alembic_config())
