"""Refresh log, change tracking on the source tables, refresh routines, freshness view.

Revision ID: 0009
Revises: 0008
"""

from soleflip_analytics.view_migrations import (
    create_function,
    run_schema_file,
    track_source_tables,
)

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_schema_file("refresh", version=1)
    create_function("track_changes", version=1)
    create_function("view_is_stale", version=1)
    create_function("refresh_lock_holder", version=1)
    create_function("refresh_view", version=1)
    track_source_tables()


def downgrade() -> None:
    run_schema_file("refresh", version=1, down=True)
