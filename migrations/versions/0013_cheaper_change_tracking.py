"""Cheaper change tracking: writers update their row first; the stale check reads sources once.

Revision ID: 0013
Revises: 0012
"""

from soleflip_analytics.view_migrations import update_function

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    update_function("track_changes", version=2)
    update_function("view_is_stale", version=2)


def downgrade() -> None:
    update_function("view_is_stale", version=1)
    update_function("track_changes", version=1)
