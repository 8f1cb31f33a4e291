"""Least-privilege roles: a read-only role for Metabase, a refresher role for the application.

Migration 0011 creates both as NOLOGIN group roles unless they exist, and
grants them what they need in schema ``analytics`` and nothing on the shop's
schemas. People and programs log in through roles that are members:

- the **reader** (``metabase_reader``): USAGE on schema analytics and SELECT on
  its materialized views, on ``analytics.view_freshness`` and on
  ``analytics.settings`` (the business time zone). Nothing else: it cannot read
  the shop's tables, refresh, or write anywhere.
- the **refresher** (``analytics_refresher``): what the reader has, SELECT on
  the refresh bookkeeping that status and health read, and EXECUTE on the
  routines that refresh (``analytics.refresh_view``, SECURITY DEFINER: it runs
  as the views' owner) and on ``analytics.refresh_tier``. No write access to
  any table, no access to the shop's tables.

Since revision 0016 no routine of schema analytics is executable by PUBLIC
but the time zone checks; the refresher is granted the ones status, health and
the refresh run as it, and may read ``analytics.settings`` (PRIVILEGES_0016).

Default privileges in schema analytics, and the migration verbs (after every
create_view and update_view), give both roles SELECT on views that later
migrations add or rebuild. The names come from ``alembic -x reader_role=...
-x refresher_role=...``, from ``upgrade(url, reader_role=..., refresher_role=...)``,
from SOLEFLIP_ANALYTICS_READER_ROLE / SOLEFLIP_ANALYTICS_REFRESHER_ROLE, or are
the defaults; they are fixed when 0011 is applied (``analytics.package_roles``).

What 0011 grants is ``PRIVILEGES_V1``, a constant that never changes once
released (its downgrade revokes the same). Roles that need more, or less, get
a new revision granting or revoking the difference, with ``PRIVILEGES_V2``.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping, Sequence

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import DBAPIError

from soleflip_analytics.catalog import known_views
from soleflip_analytics.names import (
    DEFAULT_ROLE_NAMES_V1,
    ENVIRONMENT_VARIABLES,
    OPTIONS,
    PURPOSES,
    READER,
    REFRESHER,
    SCHEMA,
)
from soleflip_analytics.view_migrations import grant_view_access

_ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
# Role names PostgreSQL reserves, or that mean something else in a GRANT.
_RESERVED = frozenset({"public", "none", "current_role", "current_user", "session_user"})

Privileges = Mapping[str, tuple[str, ...]]

# What each role may do besides SELECT on every materialized view of schema
# analytics, as "PRIVILEGE ON OBJECT": granted by revision 0011, revoked by its
# downgrade. Routines not listed here are SECURITY INVOKER and run with the
# caller's own privileges (PUBLIC may execute those, as PostgreSQL's default).
# Released: never edit it.
PRIVILEGES_V1: Privileges = {
    READER: (
        "USAGE ON SCHEMA analytics",
        # "data as of", and the business time zone the dashboards' date filters use
        "SELECT ON analytics.view_freshness, analytics.settings",
    ),
    REFRESHER: (
        "USAGE ON SCHEMA analytics",
        # status, health, the refresh order and the stale check read these
        "SELECT ON analytics.view_freshness, analytics.managed_views, analytics.refresh_log, "
        "analytics.refresh_requests, analytics.source_changes, analytics.view_sources, "
        "analytics.refresh_order, analytics.schedules",
        # SECURITY DEFINER: nobody else may execute them
        "EXECUTE ON FUNCTION analytics.refresh_view(text, boolean, text, boolean, boolean), "
        "analytics.request_refresh(text), "
        "analytics.log_refresh_failure(text, text, timestamptz, text, text), "
        "analytics.sources_have_rows(text)",
        "EXECUTE ON PROCEDURE analytics.refresh_tier(text, text, boolean)",
    ),
}

# What revision 0016 grants besides (and its downgrade revokes): the refresher
# may read the settings as the reader may; every routine of the package but the
# time zone checks is closed to PUBLIC, so the refresher is granted those that
# status, health and the refresh run as it.
PRIVILEGES_0016: Mapping[str, tuple[str, ...]] = {
    READER: (),
    REFRESHER: (
        "SELECT ON analytics.settings, analytics.refresh_locks",
        "EXECUTE ON FUNCTION analytics.begin_refresh(text, text), "
        "analytics.fail_refresh(bigint, text, text), analytics.reconcile_refresh_log(), "
        "analytics.view_is_stale(text), analytics.refresh_lock_holder(oid), "
        "analytics.allows_concurrent_refresh(oid), analytics.has_refresh_request(text), "
        "analytics.relation_oid(text, name[]), analytics.is_tracked(oid), "
        "analytics.check_refresh_arguments(text, boolean, text, boolean, boolean)",
    ),
}

# What revision 0021 grants besides (and its downgrade revokes). Released: never edit it.
PRIVILEGES_0021: Privileges = {
    READER: (),
    REFRESHER: ("EXECUTE ON FUNCTION analytics.log_up_to_date(text, text)",),
}

logger = logging.getLogger(__name__)


class InvalidRoleNameError(ValueError):
    """A configured role name that the package refuses to use."""


class RoleSetupError(RuntimeError):
    """The roles cannot be set up as configured; the message says what to do."""


def validate_role_name(name: str, purpose: str) -> str:
    """The name, if it is a plain lower-case identifier the package may grant to."""
    option = OPTIONS[purpose]
    if not _ROLE_NAME.fullmatch(name):
        raise InvalidRoleNameError(
            f"{option} {name!r} is not a valid role name: use 1 to 63 lower-case letters, "
            "digits and underscores, starting with a letter or an underscore "
            f"(for example {DEFAULT_ROLE_NAMES_V1[purpose]}). Nothing was changed."
        )
    if name.startswith("pg_") or name in _RESERVED:
        raise InvalidRoleNameError(
            f"{option} {name!r} is reserved by PostgreSQL; choose another name. "
            "Nothing was changed."
        )
    return name


def configured_role_names(defaults: Mapping[str, str]) -> dict[str, str]:
    """Purpose -> role name, inside a migration, validated.

    From ``alembic -x reader_role=...``, ``upgrade(url, reader_role=...)``, the
    environment, or ``defaults`` (the migration's version of them), in that order.
    """
    x_arguments = context.get_x_argument(as_dictionary=True)
    attributes = context.config.attributes
    names = {
        purpose: validate_role_name(
            x_arguments.get(OPTIONS[purpose])
            or attributes.get(OPTIONS[purpose])
            or os.environ.get(ENVIRONMENT_VARIABLES[purpose])
            or defaults[purpose],
            purpose,
        )
        for purpose in PURPOSES
    }
    if names[READER] == names[REFRESHER]:
        raise InvalidRoleNameError(
            f"reader_role and refresher_role are both {names[READER]!r}: the reader must not "
            "be able to refresh, so they need two roles. Nothing was changed."
        )
    return names


def _quote(connection: Connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote_identifier(name)


def install_roles(connection: Connection, names: Mapping[str, str],
                  privileges: Privileges) -> None:
    """Create the roles that are missing, record them, and grant them ``privileges``."""
    deployer = connection.execute(text("SELECT current_user::text")).scalar_one()
    for purpose, name in names.items():
        exists = _usable_role(connection, name, purpose, deployer)
        if not exists:
            connection.exec_driver_sql(f"CREATE ROLE {_quote(connection, name)} NOLOGIN")
        connection.execute(
            text("INSERT INTO analytics.package_roles (role_name, purpose, created_by_package) "
                 "VALUES (:name, :purpose, :created)"),
            {"name": name, "purpose": purpose, "created": not exists},
        )
        for privilege in privileges[purpose]:
            connection.exec_driver_sql(f"GRANT {privilege} TO {_quote(connection, name)}")
        connection.exec_driver_sql(
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {_quote(connection, deployer)} "
            f"IN SCHEMA {_quote(connection, SCHEMA)} GRANT SELECT ON TABLES "
            f"TO {_quote(connection, name)}"
        )
    for view in known_views(connection):
        grant_view_access(connection, view)
    _warn_about_readable_sources(connection, names[READER])


def check_roles(connection: Connection, names: Mapping[str, str]) -> None:
    """Raise what install_roles would refuse, changing nothing: a deploy whose revisions
    commit one by one checks before the first of them."""
    deployer = connection.execute(text("SELECT current_user::text")).scalar_one()
    for purpose, name in names.items():
        _usable_role(connection, name, purpose, deployer)


def _usable_role(connection: Connection, name: str, purpose: str, deployer: str) -> bool:
    """Whether the role exists (if not, the deployer may create it); else RoleSetupError."""
    role = connection.execute(
        text("SELECT rolsuper, pg_catalog.pg_has_role(oid, current_user, 'USAGE') AS owns "
             "FROM pg_catalog.pg_roles WHERE rolname = :name"),
        {"name": name},
    ).first()
    if role is None:
        may_create = connection.execute(
            text("SELECT rolsuper OR rolcreaterole FROM pg_catalog.pg_roles "
                 "WHERE rolname = current_user")
        ).scalar_one()
        if not may_create:
            raise RoleSetupError(
                f"role {name!r} ({purpose}) does not exist, and the role running the "
                f"migrations may not create roles. Have an administrator run CREATE ROLE "
                f"{name} NOLOGIN; then upgrade again (the migration then grants to it and "
                "leaves it in place on downgrade). Nothing was changed."
            )
    elif role.rolsuper or role.owns:
        raise RoleSetupError(
            f"{OPTIONS[purpose]} {name!r} is "
            + ("a superuser" if role.rolsuper
               else f"{deployer}, which runs the migrations, or a member of it")
            + f", and may do everything the {purpose} role must not; choose another "
            f"name (default {DEFAULT_ROLE_NAMES_V1[purpose]}). Nothing was changed."
        )
    return role is not None


def _warn_about_readable_sources(connection: Connection, reader: str) -> None:
    """A reader role that existed before may have been granted more elsewhere: say so."""
    readable = connection.execute(
        text("SELECT DISTINCT pg_catalog.format('%I.%I', source_schema, source_name) "
             "FROM analytics.view_sources "
             "WHERE source_schema <> :schema "
             "AND pg_catalog.has_table_privilege(:role, source_oid, 'SELECT') ORDER BY 1"),
        {"schema": SCHEMA, "role": reader},
    ).scalars().all()
    if readable:
        logger.warning(
            "role %s can read shop tables the views are built from (%s): it was granted "
            "that outside soleflip-analytics. Metabase connected through it sees them too; "
            "revoke those privileges to keep it to the analytics views.",
            reader, ", ".join(readable),
        )


def remove_roles(connection: Connection, privileges: Privileges) -> None:
    """Revoke what install_roles granted (with the same ``privileges``); drop the roles it
    created, where nothing else uses them.

    Roles belong to the whole server: another database may hold privileges of
    a role created here. Such a role is left in place with a warning.
    """
    roles = connection.execute(
        text("SELECT role_name::text, purpose, created_by_package, granted_by::text "
             "FROM analytics.package_roles ORDER BY purpose")
    ).all()
    views = known_views(connection)
    for role in roles:
        name = _quote(connection, role.role_name)
        for view in views:
            connection.exec_driver_sql(
                f"REVOKE SELECT ON {_quote(connection, SCHEMA)}.{_quote(connection, view)} "
                f"FROM {name}"
            )
        for privilege in privileges[role.purpose]:
            connection.exec_driver_sql(f"REVOKE {privilege} FROM {name}")
        connection.exec_driver_sql(
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {_quote(connection, role.granted_by)} "
            f"IN SCHEMA {_quote(connection, SCHEMA)} REVOKE SELECT ON TABLES FROM {name}"
        )
    for role in roles:
        if role.created_by_package:
            _drop_role(connection, role.role_name)


def _drop_role(connection: Connection, name: str) -> None:
    savepoint = connection.begin_nested()
    try:
        connection.exec_driver_sql(f"DROP ROLE {_quote(connection, name)}")
    except DBAPIError as error:
        savepoint.rollback()
        logger.warning(
            "role %s was created by soleflip-analytics but is left in place: %s. Drop it "
            "once nothing uses it any more: DROP ROLE %s;",
            name, " ".join(str(error.orig).split()), name,
        )
    else:
        savepoint.commit()


def _package_roles(connection: Connection) -> Sequence[Row]:
    return connection.execute(
        text("SELECT role_name::text, purpose FROM analytics.package_roles ORDER BY purpose")
    ).all()


def _grant_to(connection: Connection, role: Row, privileges: Privileges) -> None:
    for privilege in privileges[role.purpose]:
        connection.exec_driver_sql(f"GRANT {privilege} TO {_quote(connection, role.role_name)}")


def grant(connection: Connection, privileges: Privileges) -> None:
    """Grant each of the package's roles what ``privileges`` lists for its purpose."""
    for role in _package_roles(connection):
        _grant_to(connection, role, privileges)


def revoke(connection: Connection, privileges: Privileges) -> None:
    """Revoke what grant() granted."""
    for role in _package_roles(connection):
        for privilege in privileges[role.purpose]:
            connection.exec_driver_sql(
                f"REVOKE {privilege} FROM {_quote(connection, role.role_name)}")


def grant_privileges(connection: Connection) -> None:
    """Grant the package's roles what revision 0016 adds (PRIVILEGES_0016).

    The default privileges gave the reader SELECT on the new lock table too: it
    has no business there.
    """
    for role in _package_roles(connection):
        _grant_to(connection, role, PRIVILEGES_0016)
        if role.purpose == READER:
            connection.exec_driver_sql(
                f"REVOKE ALL ON analytics.refresh_locks FROM {_quote(connection, role.role_name)}")


def revoke_privileges(connection: Connection) -> None:
    """Revoke what grant_privileges granted."""
    revoke(connection, PRIVILEGES_0016)


def grant_refresh_tier(connection: Connection) -> None:
    """Grant the refresher EXECUTE on analytics.refresh_tier again, once it was re-created."""
    for role in _package_roles(connection):
        if role.purpose == REFRESHER:
            connection.exec_driver_sql(
                "GRANT EXECUTE ON PROCEDURE analytics.refresh_tier(text, text, boolean) "
                f"TO {_quote(connection, role.role_name)}")


def keep_roles_with_members(connection: Connection) -> None:
    """Record the package's roles that have members as not the package's to drop.

    Dropping a role drops its memberships without a word: a Metabase login
    would silently lose its access on a downgrade to base and upgrade again. So
    a role with members stays, as a role that existed before the package does,
    and a warning names the members.
    """
    rows = connection.execute(
        text("SELECT p.role_name::text, pg_catalog.string_agg("
             "    m.member::regrole::text, ', ' ORDER BY m.member::regrole::text) AS members "
             "FROM analytics.package_roles p "
             "JOIN pg_catalog.pg_auth_members m ON m.roleid = p.role_name::regrole "
             "WHERE p.created_by_package GROUP BY p.role_name ORDER BY 1")
    ).all()
    for row in rows:
        connection.execute(
            text("UPDATE analytics.package_roles SET created_by_package = false "
                 "WHERE role_name = :name"), {"name": row.role_name})
        logger.warning(
            "role %s has members (%s): it is kept when the package is removed, so that they "
            "keep their access when it is installed again. Drop it by hand once nobody needs "
            "it: DROP ROLE %s;", row.role_name, row.members, row.role_name,
        )
