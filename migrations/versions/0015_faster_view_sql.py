"""Version 2 of five views: the same contents, cheaper to refresh at a million orders.

Also gives the planner statistics for analytics.settings (one row, which
autovacuum never analyzes): views joining it were planned for 1,330 rows.

Revision ID: 0015
Revises: 0014
"""

from alembic import op

from soleflip_analytics.view_migrations import update_view

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

VIEWS = (
    "metabase_executive_metrics",
    "metabase_platform_performance",
    "metabase_brand_analytics",
    "metabase_customer_geography",
    "metabase_supplier_performance",
)


def upgrade() -> None:
    op.execute("ANALYZE analytics.settings")
    for name in VIEWS:
        update_view(name, version=2, revert_to_version=1)


def downgrade() -> None:
    for name in reversed(VIEWS):
        update_view(name, version=1, revert_to_version=2)
