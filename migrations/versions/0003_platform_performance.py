"""Create analytics.metabase_platform_performance (v1, refreshed hourly).

Revision ID: 0003
Revises: 0002
"""

from soleflip_analytics.view_migrations import create_view, drop_view

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_view("metabase_platform_performance", version=1, tier="hourly")


def downgrade() -> None:
    drop_view("metabase_platform_performance")
