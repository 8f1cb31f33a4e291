"""The synthetic shop's catalogue: what it sells, where, through whom, and the
stories its stock items tell (every edge case of the source contract)."""

from __future__ import annotations

import math
from dataclasses import dataclass

# --------------------------------------------------------------------------
# The business: what the shop sells, where, through whom.

# name, slug, fee share of the sale, fixed fee (cents), payout delay in days (min, max), share
PLATFORMS = (
    ("StockX", "stockx", 0.095, 0, (2, 5), 0.33),
    ("GOAT", "goat", 0.095, 500, (3, 7), 0.19),
    ("eBay", "ebay", 0.08, 35, (1, 3), 0.15),
    ("Alias", "alias", 0.095, 0, (2, 4), 0.09),
    ("Klekt", "klekt", 0.12, 0, (7, 14), 0.10),
    ("Restocks", "restocks", 0.10, 1000, (5, 10), 0.14),
)

CATEGORIES = ("Lifestyle", "Basketball", "Running", "Skateboarding", "Slides & Sandals", "Luxury")


@dataclass(frozen=True)
class Brand:
    name: str
    parent: str | None
    segment: str | None
    price_tier: str | None
    demographic: str | None
    collaboration: bool
    sku_style: str  # "nike" DD1391-100, "adidas" GY7386, "nb" U9060BLK, "plain" ABC-123456
    # model, category, retail price in euros, resale multiple
    models: tuple[tuple[str, str, int, float], ...]


BRANDS = (
    Brand("Nike", None, "Sportswear", "Mid", "Unisex", False, "nike", (
        ("Nike Dunk Low Retro", "Lifestyle", 120, 1.2),
        ("Nike Air Force 1 '07", "Lifestyle", 120, 1.0),
        ("Nike Air Max 1", "Lifestyle", 150, 1.1),
        ("Nike Air Max 90", "Lifestyle", 150, 1.0),
        ("Nike Zoom Vomero 5", "Running", 170, 1.3),
        ("Nike P-6000", "Running", 120, 1.1),
    )),
    Brand("Jordan", "Nike", "Sportswear", "Premium", "Men", False, "nike", (
        ("Air Jordan 1 Retro High OG", "Basketball", 190, 1.6),
        ("Air Jordan 1 Low", "Basketball", 120, 1.2),
        ("Air Jordan 3 Retro", "Basketball", 210, 1.4),
        ("Air Jordan 4 Retro", "Basketball", 220, 1.7),
        ("Air Jordan 11 Retro", "Basketball", 240, 1.3),
    )),
    Brand("Nike SB", "Nike", "Skateboarding", "Mid", "Unisex", False, "nike", (
        ("Nike SB Dunk Low Pro", "Skateboarding", 120, 1.8),
        ("Nike SB Dunk High Pro", "Skateboarding", 130, 1.3),
    )),
    Brand("Travis Scott x Jordan", "Jordan", "Sportswear", "Premium", "Men", True, "nike", (
        ("Air Jordan 1 Low OG SP Travis Scott", "Basketball", 160, 4.5),
        ("Air Jordan 1 Retro High OG SP Travis Scott", "Basketball", 200, 5.0),
    )),
    Brand("Converse", "Nike", "Lifestyle", "Budget", "Unisex", False, "plain", (
        ("Converse Chuck 70 Hi", "Lifestyle", 95, 0.9),
        ("Converse Run Star Hike", "Lifestyle", 115, 0.9),
    )),
    Brand("adidas", None, "Sportswear", "Mid", "Unisex", False, "adidas", (
        ("adidas Samba OG", "Lifestyle", 120, 1.3),
        ("adidas Gazelle Indoor", "Lifestyle", 120, 1.2),
        ("adidas Campus 00s", "Lifestyle", 110, 1.1),
        ("adidas Handball Spezial", "Lifestyle", 110, 1.1),
        ("adidas Superstar", "Lifestyle", 100, 0.9),
    )),
    Brand("Yeezy", "adidas", "Lifestyle", "Premium", "Unisex", True, "adidas", (
        ("adidas Yeezy Boost 350 V2", "Lifestyle", 230, 1.1),
        ("adidas Yeezy Slide", "Slides & Sandals", 70, 1.4),
        ("adidas Yeezy Foam Runner", "Slides & Sandals", 90, 1.3),
    )),
    Brand("New Balance", None, "Sportswear", "Mid", "Unisex", False, "nb", (
        ("New Balance 550", "Lifestyle", 130, 1.1),
        ("New Balance 2002R", "Running", 150, 1.2),
        ("New Balance 990v6 Made in USA", "Running", 220, 1.1),
        ("New Balance 9060", "Lifestyle", 160, 1.2),
        ("New Balance 1906R", "Running", 160, 1.1),
    )),
    Brand("ASICS", None, "Running", "Mid", "Unisex", False, "plain", (
        ("ASICS GEL-KAYANO 14", "Running", 150, 1.3),
        ("ASICS GEL-1130", "Running", 110, 1.1),
        ("ASICS GEL-NYC", "Running", 140, 1.2),
    )),
    Brand("Onitsuka Tiger", "ASICS", "Lifestyle", "Mid", "Unisex", False, "plain", (
        ("Onitsuka Tiger Mexico 66", "Lifestyle", 120, 1.2),
    )),
    Brand("Salomon", None, "Outdoor", "Premium", "Unisex", False, "plain", (
        ("Salomon XT-6", "Running", 190, 1.2),
        ("Salomon ACS Pro", "Running", 180, 1.1),
    )),
    Brand("Puma", None, "Sportswear", "Budget", "Unisex", False, "plain", (
        ("Puma Suede Classic", "Lifestyle", 85, 0.8),
        ("Puma Speedcat OG", "Lifestyle", 100, 1.1),
    )),
    Brand("Vans", None, "Skateboarding", "Budget", "Unisex", False, "plain", (
        ("Vans Old Skool", "Skateboarding", 80, 0.8),
        ("Vans Knu Skool", "Skateboarding", 95, 0.9),
    )),
    Brand("Balenciaga", None, "Luxury", "Luxury", "Unisex", False, "plain", (
        ("Balenciaga Triple S", "Luxury", 1050, 0.7),
        ("Balenciaga Track", "Luxury", 950, 0.7),
    )),
    Brand("Maison Mihara Yasuhiro", None, None, None, None, False, "plain", (
        ("Maison Mihara Yasuhiro Blakey", "Luxury", 480, 0.9),
    )),
)

# colorway, colors
COLORWAYS = (
    ("Panda", "White/Black"), ("Triple White", "White"), ("Triple Black", "Black"),
    ("University Blue", "White/University Blue/Black"), ("Bred", "Black/Varsity Red"),
    ("Chicago", "White/Varsity Red/Black"), ("Grey Fog", "White/Grey Fog"),
    ("Sea Salt", "Sea Salt/White"), ("Bone", "Bone/Sail"), ("Cream", "Cream White"),
    ("Olive", "Medium Olive/Sail"), ("Navy", "Navy/White"), ("Mocha", "Sail/Dark Mocha"),
    ("Black Cat", "Black/Light Graphite"), ("Pine Green", "White/Pine Green"),
    ("Court Purple", "White/Court Purple"), ("Wolf Grey", "Wolf Grey/White"),
    ("Sand Drift", "Sand Drift/Sail"), ("Onyx", "Onyx"), ("Zebra", "White/Core Black"),
    ("Green Gum", "Green/Gum"), ("Silver Metallic", "Metallic Silver/White"),
)

# Products that lack a brand or a category: name, brand, category, retail price.
INCOMPLETE_PRODUCTS = (
    ("Sample Pair (no label)", None, "Lifestyle", None),
    ("Nike Air Max 95 OG 'Neon'", "Nike", None, 180),
)

SIZES = tuple(f"US {whole}{half}" for whole in range(4, 15) for half in ("", ".5"))[:-1]
SIZE_WEIGHTS = tuple(math.exp(-((i - 11) / 4.5) ** 2) for i in range(len(SIZES)))

# country, share, VAT rate, cities with shares
DESTINATIONS = (
    ("DE", 0.34, (("Berlin", 5), ("Hamburg", 3), ("München", 3), ("Köln", 2),
                  ("Frankfurt am Main", 2), ("Stuttgart", 1), ("Düsseldorf", 1), ("Leipzig", 1))),
    ("FR", 0.12, (("Paris", 5), ("Lyon", 2), ("Marseille", 2), ("Bordeaux", 1), ("Lille", 1))),
    ("NL", 0.08, (("Amsterdam", 4), ("Rotterdam", 2), ("Utrecht", 1), ("Den Haag", 1))),
    ("GB", 0.08, (("London", 5), ("Manchester", 2), ("Birmingham", 1), ("Glasgow", 1))),
    ("IT", 0.08, (("Milano", 4), ("Roma", 3), ("Torino", 1), ("Napoli", 1))),
    ("ES", 0.07, (("Madrid", 4), ("Barcelona", 4), ("Valencia", 1), ("Sevilla", 1))),
    ("AT", 0.05, (("Wien", 5), ("Graz", 1), ("Linz", 1), ("Salzburg", 1))),
    ("BE", 0.04, (("Bruxelles", 3), ("Antwerpen", 2), ("Gent", 1))),
    ("PL", 0.04, (("Warszawa", 3), ("Kraków", 2), ("Wrocław", 1))),
    ("CH", 0.03, (("Zürich", 3), ("Genève", 2), ("Basel", 1))),
    ("DK", 0.02, (("København", 3), ("Aarhus", 1))),
    ("SE", 0.02, (("Stockholm", 3), ("Göteborg", 1))),
    ("CZ", 0.02, (("Praha", 3), ("Brno", 1))),
    ("IE", 0.01, (("Dublin", 3), ("Cork", 1))),
)

# Suppliers: (name stem, country, legal form, VAT rate on what they sell)
SUPPLIER_STEMS = (
    "Sneakerhaus", "Kickbase", "Sole Supply", "Hype Vault", "Lace Lab", "Boxfresh Trading",
    "Deadstock Depot", "Heat Check", "Grail Room", "Sample Sale", "Outlet Runner",
    "Drop Zone", "Sizerun", "Footwear Clearance", "Restock Club", "Kicks Corner",
)
SUPPLIER_HOMES = (
    ("Berlin", "DE", "GmbH", 0.19), ("Hamburg", "DE", "GmbH", 0.19),
    ("München", "DE", "GmbH", 0.19), ("Rotterdam", "NL", "B.V.", 0.21),
    ("Milano", "IT", "S.r.l.", 0.22), ("Paris", "FR", "SAS", 0.20),
    ("Wien", "AT", "GmbH", 0.20), ("Warszawa", "PL", "sp. z o.o.", 0.23),
    ("London", "GB", "Ltd", 0.20), ("Barcelona", "ES", "S.L.", 0.21),
)
PHONE_PREFIXES = {"DE": "+49", "NL": "+31", "IT": "+39", "FR": "+33", "AT": "+43",
                  "PL": "+48", "GB": "+44", "ES": "+34"}
PRIVATE_SELLERS = ("Privatverkauf (Kleinanzeigen)", "Private seller (Vinted)",
                   "Raffle win (SNKRS)")

ORDER_STATUS_WEIGHTS = (("completed", 0.92), ("pending", 0.03), ("cancelled", 0.035),
                        ("returned", 0.015))
UNSOLD_SHARE = 0.11          # stock items that never had an order
RESOLD_SHARE = 0.045         # cancelled or returned, then completed
TWICE_COMPLETED_SHARE = 0.003
CONDITIONS = (("new", 0.93), ("used", 0.055), ("new (damaged box)", 0.01), (None, 0.005))


# --------------------------------------------------------------------------
# What an item's story is.

@dataclass(frozen=True)
class ItemPlan:
    """One stock item: the statuses of its orders in time order, and what is missing."""

    statuses: tuple[str, ...]
    free_replacement: bool = False
    no_supplier: bool = False
    no_purchase_date: bool = False
    no_purchase_price: bool = False
    no_city: bool = False
    no_country: bool = False
    city_without_country: bool = False
    unpaid: bool = False
    product: int | None = None          # index into the product list
    unsold_age_days: float | None = None


# The first items tell every story of the source contract, so that even a
# small data set holds each edge case.
EDGE_CASES = (
    ItemPlan(("cancelled", "completed")),
    ItemPlan(("returned", "completed")),
    ItemPlan(("completed", "completed")),
    ItemPlan(("completed",), free_replacement=True),
    ItemPlan(("completed",), no_supplier=True),
    ItemPlan(("completed",), no_purchase_date=True),
    ItemPlan(("completed",), no_purchase_price=True),
    ItemPlan(("completed",), no_city=True),
    ItemPlan(("completed",), no_country=True),
    ItemPlan(("completed",), city_without_country=True),
    ItemPlan(("completed",), product=0),   # product without brand
    ItemPlan(("completed",), product=1),   # product without category
    ItemPlan(("completed",), unpaid=True),
    ItemPlan(("pending",)),
    ItemPlan(("cancelled",)),
    ItemPlan(("returned",)),
    ItemPlan((), no_purchase_date=True),
    ItemPlan((), unsold_age_days=400.0),
    ItemPlan((), unsold_age_days=120.0),
    ItemPlan((), unsold_age_days=45.0),
    ItemPlan((), unsold_age_days=5.0),
)
