"""``python -m soleflip_analytics.dashboards``: the dashboards commands on their own."""

from soleflip_analytics.dashboards.commands import dashboards

dashboards(prog_name="python -m soleflip_analytics.dashboards")
