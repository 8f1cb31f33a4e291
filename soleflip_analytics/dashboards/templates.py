"""The four dashboard templates, in the order they are exported and pushed."""

from __future__ import annotations

from soleflip_analytics.dashboards.executive import EXECUTIVE
from soleflip_analytics.dashboards.inventory import INVENTORY_MANAGEMENT
from soleflip_analytics.dashboards.model import Dashboard
from soleflip_analytics.dashboards.platform import PLATFORM_PERFORMANCE
from soleflip_analytics.dashboards.product import PRODUCT_ANALYTICS

DASHBOARDS: tuple[Dashboard, ...] = (
    EXECUTIVE,
    PRODUCT_ANALYTICS,
    PLATFORM_PERFORMANCE,
    INVENTORY_MANAGEMENT,
)
