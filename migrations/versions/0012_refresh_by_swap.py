"""Refresh big views by building their new contents beside the old and swapping them in.

Revision ID: 0012
Revises: 0011
"""

from soleflip_analytics.view_migrations import run_schema_file, update_function

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_schema_file("swap", version=1)
    update_function("refresh_lock_holder", version=2)
    update_function("refresh_view", version=2)


def downgrade() -> None:
    update_function("refresh_view", version=1)
    update_function("refresh_lock_holder", version=1)
    run_schema_file("swap", version=1, down=True)
