"""The source contract: the shop tables and columns the views read.

The first migration checks it before it creates anything, so a deploy onto a
database without the shop's tables fails with one message and changes nothing.

Each version of the contract is a constant that never changes once released:
revision 0001 checks ``SOURCE_CONTRACT_V1`` (with ``COMPATIBLE_TYPES_V1``) and
sends it with the check, so the frozen-migration test sees it. A contract that
changes is a new ``SOURCE_CONTRACT_V<N>`` with the revision that needs it;
``SOURCE_CONTRACT`` names the latest, which ``db check`` and the commands compare with.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import text
from sqlalchemy.engine import Connection

# Types compatible with each contract type, as pg_catalog.format_type() spells them.
COMPATIBLE_TYPES_V1: Mapping[str, frozenset[str]] = {
    "uuid": frozenset({"uuid"}),
    "text": frozenset({"text", "character varying"}),
    "numeric": frozenset({"numeric"}),
    "timestamptz": frozenset({"timestamp with time zone"}),
    "boolean": frozenset({"boolean"}),
}

Contract = Mapping[str, Mapping[str, str]]

SOURCE_CONTRACT_V1: Contract = {
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

# The latest version: what the running code compares the database with.
SOURCE_CONTRACT: Contract = SOURCE_CONTRACT_V1
COMPATIBLE_TYPES: Mapping[str, frozenset[str]] = COMPATIBLE_TYPES_V1

# One row per contract column, in contract order: whether its table exists, and the
# type it has (NULL when missing) and whether that type is one the contract accepts.
_CHECK_QUERY = text(
    """
    SELECT e.table_name, e.column_name, e.contract_type, t.oid IS NOT NULL AS table_found,
           format_type(a.atttypid, NULL) AS column_type,
           format_type(a.atttypid, NULL) = ANY (string_to_array(e.accepted, '|')) AS compatible
    FROM unnest(CAST(:tables AS text[]), CAST(:columns AS text[]), CAST(:types AS text[]),
                CAST(:accepted AS text[]))
         WITH ORDINALITY AS e (table_name, column_name, contract_type, accepted, position)
    LEFT JOIN (pg_catalog.pg_class t JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace)
           ON n.nspname || '.' || t.relname = e.table_name
          AND t.relkind IN ('r', 'p', 'v', 'm', 'f')
    LEFT JOIN pg_catalog.pg_attribute a
           ON a.attrelid = t.oid AND a.attname = e.column_name AND a.attnum > 0
          AND NOT a.attisdropped
    ORDER BY e.position
    """
)


class SourceContractError(RuntimeError):
    """The database lacks tables or columns that the analytics views read."""


def contract_problems(
    connection: Connection,
    contract: Contract = SOURCE_CONTRACT,
    compatible_types: Mapping[str, frozenset[str]] = COMPATIBLE_TYPES,
) -> list[str]:
    """Return one line per missing table, missing column or incompatible type."""
    columns = [(table, column, contract_type)
               for table, table_columns in contract.items()
               for column, contract_type in table_columns.items()]
    rows = connection.execute(_CHECK_QUERY, {
        "tables": [table for table, _, _ in columns],
        "columns": [column for _, column, _ in columns],
        "types": [contract_type for _, _, contract_type in columns],
        "accepted": ["|".join(sorted(compatible_types[contract_type]))
                     for _, _, contract_type in columns],
    })
    problems: list[str] = []
    for row in rows:
        table, column = row.table_name, row.column_name
        if not row.table_found:
            if f"missing table {table}" not in problems:
                problems.append(f"missing table {table}")
        elif row.column_type is None:
            problems.append(f"missing column {table}.{column} ({row.contract_type})")
        elif not row.compatible:
            problems.append(
                f"column {table}.{column} is {row.column_type}, expected {row.contract_type}"
            )
    return problems


def check_source_contract(
    connection: Connection,
    contract: Contract = SOURCE_CONTRACT,
    compatible_types: Mapping[str, frozenset[str]] = COMPATIBLE_TYPES,
) -> None:
    """Raise SourceContractError naming every problem, or return quietly."""
    problems = contract_problems(connection, contract, compatible_types)
    if problems:
        raise SourceContractError(
            "The database does not hold the shop tables the analytics views read "
            "(the source contract); nothing was created.\n  - "
            + "\n  - ".join(problems)
            + "\nCreate or migrate these tables first (sql/source_contract.sql has "
            "the contract as DDL), then run the upgrade again."
        )
