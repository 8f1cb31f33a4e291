"""Least privilege: a read-only role for Metabase, a refresher role for the application.

Revision ID: 0011
Revises: 0010
"""

from alembic import op

from soleflip_analytics.roles import (
    DEFAULT_ROLE_NAMES_V1,
    PRIVILEGES_V1,
    configured_role_names,
    install_roles,
    remove_roles,
)
from soleflip_analytics.view_migrations import run_schema_file

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    names = configured_role_names(DEFAULT_ROLE_NAMES_V1)  # validated before anything changes
    run_schema_file("roles", version=1)
    install_roles(op.get_bind(), names, PRIVILEGES_V1)


def downgrade() -> None:
    remove_roles(op.get_bind(), PRIVILEGES_V1)
    run_schema_file("roles", version=1, down=True)
