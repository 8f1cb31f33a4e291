"""Views none of whose sources changed are logged up to date without their refresh lock.

With only_stale, the library first asks analytics.log_up_to_date for each
view: one transaction that logs it up_to_date when nothing it reads changed
and nobody asked for a refresh, without a start entry committed to the disk
first and without waiting for a refresh of the view that runs meanwhile. The
refresher role may run it (PRIVILEGES_0021).

Revision ID: 0021
Revises: 0020
"""

from alembic import op

from soleflip_analytics.roles import PRIVILEGES_0021, grant, revoke
from soleflip_analytics.view_migrations import create_function

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_function("log_up_to_date", version=1)
    grant(op.get_bind(), PRIVILEGES_0021)


def downgrade() -> None:
    revoke(op.get_bind(), PRIVILEGES_0021)
    op.execute("DROP FUNCTION analytics.log_up_to_date(text, text)")
