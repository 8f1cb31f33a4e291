"""Least privilege: a read-only role for Metabase, a refresher role for the application.

Revision ID: 0011
Revises: 0010
"""

from alembic import op

from soleflip_analytics.roles import configured_role_names, install_roles, remove_roles
from soleflip_analytics.view_migrations import run_schema_file

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    names = configured_role_names()  # validated before anything changes
    run_schema_file("roles_v1.sql")
    install_roles(op.get_bind(), names)


def downgrade() -> None:
    remove_roles(op.get_bind())
    run_schema_file("roles_v1_down.sql")
