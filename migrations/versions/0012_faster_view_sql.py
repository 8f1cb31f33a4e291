"""Version 2 of five views: the same contents, cheaper to refresh at a million orders.

Revision ID: 0012
Revises: 0011
"""

from soleflip_analytics.view_migrations import update_view

revision = "0012"
down_revision = "0011"
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
    for name in VIEWS:
        update_view(name, version=2, revert_to_version=1)


def downgrade() -> None:
    for name in reversed(VIEWS):
        update_view(name, version=1, revert_to_version=2)
