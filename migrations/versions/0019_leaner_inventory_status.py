"""metabase_inventory_status v2, indexed on its grain only; unsold stock per product for a card.

The cards read the views built on metabase_inventory_status, not the view
itself, so its other indexes only slowed each refresh down. Stock by product
reads unsold_stock_by_product (v1, hourly) instead of adding up every unsold
item. The view is created first, so that the update rebuilds it with the
other views built on metabase_inventory_status.

Revision ID: 0019
Revises: 0018
"""

from alembic import op

from soleflip_analytics.view_migrations import create_view, drop_view, update_view

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_view("unsold_stock_by_product", version=1, tier="hourly")
    # Like every view since revision 0018: vacuum must not take a lock standbys replay.
    op.execute("ALTER MATERIALIZED VIEW analytics.unsold_stock_by_product "
               "SET (vacuum_truncate = off)")
    op.execute("ANALYZE analytics.unsold_stock_by_product")
    update_view("metabase_inventory_status", version=2, revert_to_version=1)


def downgrade() -> None:
    drop_view("unsold_stock_by_product")
    update_view("metabase_inventory_status", version=1, revert_to_version=2)
