"""Create analytics.metabase_customer_geography (v1, refreshed daily).

Revision ID: 0007
Revises: 0006
"""

from soleflip_analytics.view_migrations import create_view, drop_view

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_view("metabase_customer_geography", version=1, tier="daily")


def downgrade() -> None:
    drop_view("metabase_customer_geography")
