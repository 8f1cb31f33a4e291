"""Create analytics.metabase_product_performance (v1, refreshed daily).

Revision ID: 0004
Revises: 0003
"""

from soleflip_analytics.view_migrations import create_view, drop_view

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_view("metabase_product_performance", version=1, tier="daily")


def downgrade() -> None:
    drop_view("metabase_product_performance")
