"""Development tooling: synthetic shop data and a throwaway PostgreSQL server.

- ``catalogue``: what the synthetic shop sells, where, through whom (data tables);
- ``reference``: the reference rows (platforms, brands, products, suppliers), clock and ids;
- ``generator``: deterministic stock and order rows drawn from the catalogue;
- ``loader``: ``seed()`` and ``create_source_contract()``, which put them in a database;
- ``server``: ``LocalServer``, a PostgreSQL started from this machine's binaries.

Nothing in the runtime library imports this package.
"""

from soleflip_analytics.demo.loader import Progress, SeedResult, create_source_contract, seed

__all__ = ["Progress", "SeedResult", "create_source_contract", "seed"]
