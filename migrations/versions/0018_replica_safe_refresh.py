"""Refreshes that hot standbys replay without stalling or cancelling their queries.

While a standby streams from the server (or a physical replication slot is
kept for one), big views are refreshed concurrently instead of by swap
(analytics.refresh_settings.replica_safe, auto by default), and vacuum no
longer truncates the views: both would take an ACCESS EXCLUSIVE lock that
standbys replay behind their readers.

Revision ID: 0018
Revises: 0017
"""

from soleflip_analytics.view_migrations import run_schema_file, update_function

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_schema_file("replica_safe", 1)
    update_function("refresh_view", version=5)


def downgrade() -> None:
    update_function("refresh_view", version=4)
    run_schema_file("replica_safe", 1, down=True)
