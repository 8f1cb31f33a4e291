"""A shorter swap: the rebuilt views logged before the drop, the swapped view locked first.

refresh_by_swap version 2 (new arguments: the refresh's trigger, start and
snapshot, to log the views it rebuilds before it takes its locks) and
refresh_view version 4, which calls it.

Revision ID: 0017
Revises: 0016
"""

from alembic import op

from soleflip_analytics.view_migrations import create_function, update_function

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DROP FUNCTION analytics.refresh_by_swap(text)")
    create_function("refresh_by_swap", version=2)
    op.execute("REVOKE EXECUTE ON FUNCTION "
               "analytics.refresh_by_swap(text, text, timestamptz, pg_snapshot) FROM PUBLIC")
    update_function("refresh_view", version=4)


def downgrade() -> None:
    update_function("refresh_view", version=3)
    op.execute("DROP FUNCTION analytics.refresh_by_swap(text, text, timestamptz, pg_snapshot)")
    create_function("refresh_by_swap", version=1)
    op.execute("REVOKE EXECUTE ON FUNCTION analytics.refresh_by_swap(text) FROM PUBLIC")
