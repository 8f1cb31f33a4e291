"""Create analytics.metabase_inventory_status (v1, refreshed hourly).

Revision ID: 0006
Revises: 0005
"""

from soleflip_analytics.view_migrations import create_view, drop_view

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_view("metabase_inventory_status", version=1, tier="hourly")


def downgrade() -> None:
    drop_view("metabase_inventory_status")
