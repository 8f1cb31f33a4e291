"""Refresh promises under contention and hostile roles.

A refresh lock only refreshes can take (a row of analytics.refresh_locks
instead of an advisory lock anyone may take); a refresh that waited reads the
view afresh; the start of every refresh on record, so that an interrupted one
shows; IANA time zones only; no routine of the package executable by PUBLIC
but the time zone checks; the refresher may read analytics.settings.

Revision ID: 0016
Revises: 0015
"""

from alembic import op

from soleflip_analytics.roles import (
    grant_privileges,
    grant_refresh_tier,
    keep_roles_with_members,
    revoke_privileges,
)
from soleflip_analytics.view_migrations import (
    create_function,
    restore_missing_views,
    run_schema_file,
    update_function,
)

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

NEW_ROUTINES = (
    "check_refresh_arguments",
    "begin_refresh",
    "reconcile_refresh_log",
    "fail_refresh",
)


def upgrade() -> None:
    create_function("check_time_zone", version=1)
    run_schema_file("promises", 1)
    for name in NEW_ROUTINES:
        create_function(name, version=1)
    update_function("log_refresh", version=2)
    update_function("refresh_lock_holder", version=3)
    update_function("refresh_view", version=3)
    update_function("refresh_tier", version=2)
    grant_privileges(op.get_bind())


def downgrade() -> None:
    restore_missing_views()  # the downgrades below drop them
    keep_roles_with_members(op.get_bind())
    revoke_privileges(op.get_bind())
    # Version 1 of these two is created, not replaced, by its file: drop version 2 first.
    op.execute("DROP PROCEDURE analytics.refresh_tier(text, text, boolean)")
    create_function("refresh_tier", version=1)
    grant_refresh_tier(op.get_bind())
    update_function("refresh_view", version=2)
    update_function("refresh_lock_holder", version=2)
    op.execute("DROP FUNCTION analytics.log_refresh(text, text, text, text, timestamptz, bigint, "
               "text, text, pg_snapshot)")
    create_function("log_refresh", version=1)
    for name in reversed(NEW_ROUTINES):
        op.execute(f"DROP FUNCTION analytics.{name}")
    run_schema_file("promises", 1, down=True)
    op.execute("DROP FUNCTION analytics.check_time_zone(text)")
