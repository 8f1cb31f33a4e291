"""Refresh schedules: the pg_cron jobs that refresh each tier on time in the business time zone.

Revision ID: 0010
Revises: 0009
"""

from alembic import op

from soleflip_analytics.schedules import install_jobs, remove_jobs, strict_requested
from soleflip_analytics.view_migrations import run_schema_file

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    strict = strict_requested()  # validated before anything changes
    run_schema_file("schedules", version=1)
    install_jobs(op.get_bind(), strict=strict)


def downgrade() -> None:
    remove_jobs(op.get_bind())
    run_schema_file("schedules", version=1, down=True)
