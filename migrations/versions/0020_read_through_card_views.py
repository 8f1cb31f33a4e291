"""The card views read metabase_inventory_status through a plain view; cheaper up-to-date entries.

The views built on metabase_inventory_status read it through
analytics_internal.metabase_inventory_status (their version 2), which the
swap of the big view points at its new contents (refresh_by_swap v3): the
swap no longer rebuilds them in its transaction, and they are refreshed on
their own, on either connection. Views of 10,000 rows and more are swapped
(swap_min_rows was 100,000): at a million orders the card views of 14,000 to
60,000 rows took twice as long to compare row by row as to build. A log entry
saying a view was up to date is committed without waiting for the disk
(log_refresh v3).

Revision ID: 0020
Revises: 0019
"""

from alembic import op

from soleflip_analytics.view_migrations import (
    create_function,
    restore_missing_views,
    run_schema_file,
    swap_deferred,
    update_function,
    update_view,
)

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

CARD_VIEWS = (
    "bought_items_by_brand",
    "sold_items_by_price_band",
    "sold_items_by_product",
    "unsold_stock_by_product",
    "unsold_stock_items",
    "unsold_stock_summary",
)


def upgrade() -> None:
    run_schema_file("read_through", 1)
    for name in CARD_VIEWS:
        update_view(name, version=2, revert_to_version=1)
    update_function("refresh_by_swap", version=3)
    update_function("log_refresh", version=3)
    _set_swap_min_rows(10_000, instead_of=100_000)


def downgrade() -> None:
    restore_missing_views()  # the updates below need the views
    _set_swap_min_rows(100_000, instead_of=10_000)
    update_function("log_refresh", version=2)
    op.execute("DROP FUNCTION analytics.refresh_by_swap(text, text, timestamptz, pg_snapshot)")
    create_function("refresh_by_swap", version=2)
    op.execute("REVOKE EXECUTE ON FUNCTION "
               "analytics.refresh_by_swap(text, text, timestamptz, pg_snapshot) FROM PUBLIC")
    for name in CARD_VIEWS:
        update_view(name, version=1, revert_to_version=2)
    # The card views' version 2 read the read-through view until they are swapped out.
    swap_deferred(op.get_bind())
    run_schema_file("read_through", 1, down=True)


def _set_swap_min_rows(rows: int, instead_of: int) -> None:
    """The default, and the setting where it was left at the default it replaces."""
    op.execute(f"ALTER TABLE analytics.refresh_settings ALTER COLUMN swap_min_rows "
               f"SET DEFAULT {rows}")
    op.execute(f"UPDATE analytics.refresh_settings SET swap_min_rows = {rows} "
               f"WHERE swap_min_rows = {instead_of}")
