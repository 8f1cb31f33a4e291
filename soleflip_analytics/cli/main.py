"""The ``soleflip-analytics`` group and its verbs."""

from __future__ import annotations

import click

from soleflip_analytics.cli.common import Commands
from soleflip_analytics.cli.dashboards import dashboards
from soleflip_analytics.cli.db import db
from soleflip_analytics.cli.demo import demo, seed_command
from soleflip_analytics.cli.views import health_command, refresh_command, status_command


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="soleflip-analytics")
def main() -> None:
    """The analytics views of the soleflip shop: deploy, refresh, watch, demo."""


for command in (db, refresh_command, status_command, health_command, seed_command, demo,
                dashboards):
    main.add_command(command)
