"""Views the dashboard cards read instead of all of metabase_inventory_status (v1, hourly).

Each reads metabase_inventory_status and is refreshed after it; ANALYZE gives
the planner their statistics before the first dashboard asks.

Revision ID: 0014
Revises: 0013
"""

from alembic import op

from soleflip_analytics.view_migrations import create_view, drop_view

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

VIEWS = (
    "unsold_stock_items",
    "unsold_stock_summary",
    "sold_items_by_product",
    "sold_items_by_price_band",
    "bought_items_by_brand",
)


def upgrade() -> None:
    for name in VIEWS:
        create_view(name, version=1, tier="hourly")
        op.execute(f"ANALYZE analytics.{name}")


def downgrade() -> None:
    for name in reversed(VIEWS):
        drop_view(name)
