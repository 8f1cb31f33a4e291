"""Run the packaged migrations from application code or the command line."""

from __future__ import annotations

import os

from alembic import command
from alembic.config import Config
from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

from soleflip_analytics.paths import migrations_dir
from soleflip_analytics.roles import OPTIONS, READER, REFRESHER

# The shop keeps its own alembic_version; ours has a name of its own.
VERSION_TABLE = "soleflip_analytics_version"
VERSION_TABLE_SCHEMA = "public"
# alembic -x strict_schedules=true, or upgrade(..., strict_schedules=True): fail
# the deploy when the refresh schedules cannot be installed in pg_cron.
STRICT_SCHEDULES_OPTION = "strict_schedules"


class DatabaseUrlMissing(RuntimeError):
    """No database URL was given."""


class InvalidDatabaseUrl(ValueError):
    """The database URL is malformed, or names no PostgreSQL driver the package has."""


DRIVERS = ("psycopg2", "psycopg")
_URL_FORM = "postgresql://user:password@host:port/dbname"


def resolve_url(url: str | None) -> str:
    """The URL given, else DATABASE_URL, with psycopg2 as the driver unless one is named.

    postgres:// (as some hosting services write it) is accepted too. A malformed URL,
    or one of another database or driver, raises InvalidDatabaseUrl.
    """
    url = url or os.environ.get("DATABASE_URL")
    if not url:
        raise DatabaseUrlMissing(
            "No database URL: set DATABASE_URL or pass one "
            "(alembic -x url=postgresql://user@host/db upgrade head)."
        )
    for bare in ("postgres://", "postgresql://"):
        if url.startswith(bare):
            url = "postgresql+psycopg2://" + url[len(bare):]
    try:
        parsed = make_url(url)
        parsed.port  # noqa: B018 (parsed on access: a port that is no number raises)
    except (ArgumentError, ValueError):  # their messages may quote the password
        raise InvalidDatabaseUrl(f"malformed database URL: write it as {_URL_FORM}") from None
    if parsed.get_backend_name() != "postgresql" or parsed.get_driver_name() not in DRIVERS:
        raise InvalidDatabaseUrl(
            f"unsupported database URL {parsed.drivername}://…: soleflip-analytics needs "
            f"PostgreSQL through psycopg2 or psycopg ({_URL_FORM}, or "
            f"postgresql+psycopg://…)"
        )
    return url


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config for the packaged migrations (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    if url is not None:
        # Kept out of the ini options, where '%' in a password would be interpolated.
        config.attributes["url"] = url
    return config


def upgrade(
    url: str | None = None,
    revision: str = "head",
    *,
    reader_role: str | None = None,
    refresher_role: str | None = None,
    strict_schedules: bool | None = None,
) -> None:
    """Apply the migrations up to ``revision`` in one transaction.

    ``reader_role`` and ``refresher_role`` name the roles revision 0011 grants
    to (default: SOLEFLIP_ANALYTICS_READER_ROLE / SOLEFLIP_ANALYTICS_REFRESHER_ROLE,
    else metabase_reader / analytics_refresher); see soleflip_analytics.roles.

    ``strict_schedules`` True fails the upgrade, changing nothing, when revision
    0010 cannot install the refresh schedules in pg_cron; False only warns; None
    (the default) follows SOLEFLIP_ANALYTICS_STRICT_SCHEDULES, else warns.
    """
    config = alembic_config(url)
    for purpose, name in ((READER, reader_role), (REFRESHER, refresher_role)):
        if name is not None:
            config.attributes[OPTIONS[purpose]] = name
    if strict_schedules is not None:
        config.attributes[STRICT_SCHEDULES_OPTION] = strict_schedules
    command.upgrade(config, revision)


def downgrade(url: str | None = None, revision: str = "base") -> None:
    """Revert the migrations down to ``revision`` ("base" removes everything)."""
    command.downgrade(alembic_config(url), revision)
