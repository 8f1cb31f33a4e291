-- The shop's operational tables that the analytics views read (see the source
-- contract in the spec). The shop application owns and migrates these tables;
-- this file exists for the tests, the demo and anyone starting from an empty
-- database. The analytics migrations never run it.

CREATE SCHEMA IF NOT EXISTS core;
CREATE SCHEMA IF NOT EXISTS catalog;
CREATE SCHEMA IF NOT EXISTS inventory;
CREATE SCHEMA IF NOT EXISTS transactions;

CREATE TABLE core.platforms (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL,
    slug        text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE core.suppliers (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    business_name  text NOT NULL,
    contact_email  text,
    phone          text,
    country        text,
    rating         numeric(3,2) CHECK (rating BETWEEN 0 AND 5),
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE catalog.brand (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name                text NOT NULL UNIQUE,
    parent_brand_id     uuid REFERENCES catalog.brand (id),
    segment             text,
    price_tier          text,
    target_demographic  text,
    is_collaboration    boolean NOT NULL DEFAULT false
);

CREATE TABLE catalog.category (
    id    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name  text NOT NULL UNIQUE
);

CREATE TABLE catalog.product (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    sku           text NOT NULL UNIQUE,
    name          text NOT NULL,
    brand_id      uuid REFERENCES catalog.brand (id),
    category_id   uuid REFERENCES catalog.category (id),
    retail_price  numeric(10,2)
);

CREATE TABLE inventory.stock (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    product_id            uuid NOT NULL REFERENCES catalog.product (id),
    supplier_id           uuid REFERENCES core.suppliers (id),
    size                  text,
    color                 text,
    condition             text,
    status                text NOT NULL,
    purchase_price        numeric(10,2),
    gross_purchase_price  numeric(10,2),
    vat_amount            numeric(10,2),
    purchase_date         timestamptz,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE transactions.orders (
    id                         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    inventory_item_id          uuid NOT NULL REFERENCES inventory.stock (id),
    platform_id                uuid NOT NULL REFERENCES core.platforms (id),
    external_id                text,
    status                     text NOT NULL,
    sold_at                    timestamptz NOT NULL,
    gross_sale                 numeric(10,2) NOT NULL,
    platform_fee               numeric(10,2) NOT NULL DEFAULT 0,
    shipping_cost              numeric(10,2) NOT NULL DEFAULT 0,
    net_proceeds               numeric(10,2),
    net_profit                 numeric(10,2),
    roi                        numeric(10,4),
    payout_received            boolean NOT NULL DEFAULT false,
    payout_date                timestamptz,
    buyer_destination_country  text,
    buyer_destination_city     text,
    created_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                 timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX ON inventory.stock (product_id);
CREATE INDEX ON inventory.stock (supplier_id);
CREATE INDEX ON transactions.orders (inventory_item_id);
CREATE INDEX ON transactions.orders (platform_id);
