"""``python -m soleflip_analytics.dashboards``: the dashboards commands on their own."""

from soleflip_analytics.cli.dashboards import dashboards

dashboards(prog_name="python -m soleflip_analytics.dashboards")
