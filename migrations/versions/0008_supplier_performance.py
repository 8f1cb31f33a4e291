"""Create analytics.metabase_supplier_performance (v1, refreshed weekly).

Revision ID: 0008
Revises: 0007
"""

from soleflip_analytics.view_migrations import create_view, drop_view

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_view("metabase_supplier_performance", version=1, tier="weekly")


def downgrade() -> None:
    drop_view("metabase_supplier_performance")
