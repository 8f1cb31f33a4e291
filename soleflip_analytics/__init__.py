"""soleflip-analytics: the analytics views Metabase reads, and the tools that keep them fresh."""

from soleflip_analytics.contract import SourceContractError
from soleflip_analytics.deploy import downgrade, upgrade

__all__ = ["SourceContractError", "downgrade", "upgrade"]
