"""Change tracking that costs the shop's writers less: update the process's row first.

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


def downgrade() -> None:
    update_function("track_changes", version=1)
