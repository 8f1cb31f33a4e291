"""Create analytics.metabase_executive_metrics (v1, refreshed hourly).

Revision ID: 0002
Revises: 0001
"""

from soleflip_analytics.view_migrations import create_view, drop_view

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_view("metabase_executive_metrics", version=1, tier="hourly")


def downgrade() -> None:
    drop_view("metabase_executive_metrics")
