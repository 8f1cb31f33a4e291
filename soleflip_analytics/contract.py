"""The source contract: the shop tables and columns the views read.

The first migration checks it before it creates anything, so a deploy onto a
database without the shop's tables fails with one message and changes nothing.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

# Types compatible with each contract type, as pg_catalog.format_type() spells them.
COMPATIBLE_TYPES: dict[str, frozenset[str]] = {
    "uuid": frozenset({"uuid"}),
    "text": frozenset({"text", "character varying"}),
    "numeric": frozenset({"numeric"}),
    "timestamptz": frozenset({"timestamp with time zone"}),
    "boolean": frozenset({"boolean"}),
}

SOURCE_CONTRACT: dict[str, dict[str, str]] = {
    "core.platforms": {
        "id": "uuid", "name": "text", "slug": "text", "created_at": "timestamptz",
    },
    "core.suppliers": {
        "id": "uuid", "business_name": "text", "contact_email": "text", "phone": "text",
        "country": "text", "rating": "numeric", "created_at": "timestamptz",
    },
    "catalog.brand": {
        "id": "uuid", "name": "text", "parent_brand_id": "uuid", "segment": "text",
        "price_tier": "text", "target_demographic": "text", "is_collaboration": "boolean",
    },
    "catalog.category": {"id": "uuid", "name": "text"},
    "catalog.product": {
        "id": "uuid", "sku": "text", "name": "text", "brand_id": "uuid",
        "category_id": "uuid", "retail_price": "numeric",
    },
    "inventory.stock": {
        "id": "uuid", "product_id": "uuid", "supplier_id": "uuid", "size": "text",
        "color": "text", "condition": "text", "status": "text", "purchase_price": "numeric",
        "gross_purchase_price": "numeric", "vat_amount": "numeric",
        "purchase_date": "timestamptz", "created_at": "timestamptz", "updated_at": "timestamptz",
    },
    "transactions.orders": {
        "id": "uuid", "inventory_item_id": "uuid", "platform_id": "uuid",
        "external_id": "text", "status": "text", "sold_at": "timestamptz",
        "gross_sale": "numeric", "platform_fee": "numeric", "shipping_cost": "numeric",
        "net_proceeds": "numeric", "net_profit": "numeric", "roi": "numeric",
        "payout_received": "boolean", "payout_date": "timestamptz",
        "buyer_destination_country": "text", "buyer_destination_city": "text",
        "created_at": "timestamptz", "updated_at": "timestamptz",
    },
}

_COLUMNS_QUERY = text(
    """
    SELECT n.nspname || '.' || c.relname AS table_name,
           a.attname AS column_name,
           format_type(a.atttypid, NULL) AS column_type
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_catalog.pg_attribute a
           ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
      AND n.nspname || '.' || c.relname = ANY (:tables)
    """
)


class SourceContractError(RuntimeError):
    """The database lacks tables or columns that the analytics views read."""


def contract_problems(connection: Connection) -> list[str]:
    """Return one line per missing table, missing column or incompatible type."""
    found: dict[str, dict[str, str]] = {}
    for table, column, column_type in connection.execute(
        _COLUMNS_QUERY, {"tables": list(SOURCE_CONTRACT)}
    ):
        found.setdefault(table, {})
        if column is not None:
            found[table][column] = column_type

    problems = []
    for table, columns in SOURCE_CONTRACT.items():
        if table not in found:
            problems.append(f"missing table {table}")
            continue
        for column, contract_type in columns.items():
            actual = found[table].get(column)
            if actual is None:
                problems.append(f"missing column {table}.{column} ({contract_type})")
            elif actual not in COMPATIBLE_TYPES[contract_type]:
                problems.append(
                    f"column {table}.{column} is {actual}, expected {contract_type}"
                )
    return problems


def check_source_contract(connection: Connection) -> None:
    """Raise SourceContractError naming every problem, or return quietly."""
    problems = contract_problems(connection)
    if problems:
        raise SourceContractError(
            "The database does not hold the shop tables the analytics views read "
            "(the source contract); nothing was created.\n  - "
            + "\n  - ".join(problems)
            + "\nCreate or migrate these tables first (sql/source_contract.sql has "
            "the contract as DDL), then run the upgrade again."
        )
