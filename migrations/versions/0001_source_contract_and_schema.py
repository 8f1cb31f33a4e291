"""Check the source contract; create the analytics schema and its settings.

Revision ID: 0001
Revises:
"""

from alembic import op

from soleflip_analytics.contract import (
    COMPATIBLE_TYPES_V1,
    SOURCE_CONTRACT_V1,
    check_source_contract,
)
from soleflip_analytics.view_migrations import run_schema_file

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    check_source_contract(op.get_bind(), SOURCE_CONTRACT_V1, COMPATIBLE_TYPES_V1)
    run_schema_file("analytics", version=1)


def downgrade() -> None:
    op.execute("DROP SCHEMA analytics CASCADE")
