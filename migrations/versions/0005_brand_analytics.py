"""Create analytics.metabase_brand_analytics (v1, refreshed daily).

Revision ID: 0005
Revises: 0004
"""

from soleflip_analytics.view_migrations import create_view, drop_view

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_view("metabase_brand_analytics", version=1, tier="daily")


def downgrade() -> None:
    drop_view("metabase_brand_analytics")
