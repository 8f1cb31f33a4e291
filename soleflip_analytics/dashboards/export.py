"""Write the templates' API payloads to files, for review or for import without this package.

Layout of the output directory::

    manifest.json                 Metabase version targeted, database id, currency, every file
    import.sh                     creates the cards, dashboards and placements with curl and jq
    <dashboard>/cards/NN-*.json   POST /api/card, one per card
    <dashboard>/dashboard.json    POST /api/dashboard
    <dashboard>/dashcards.json    PUT /api/dashboard/:id; each "card_id" names a card file
                                  until the import replaces it with the id Metabase gave
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from soleflip_analytics.dashboards.columns import DEFAULT_CURRENCY
from soleflip_analytics.dashboards.payloads import METABASE_VERSION, build_bundles
from soleflip_analytics.dashboards.validate import validate

IMPORT_SCRIPT = Path(__file__).resolve().parent / "import.sh"


def export(
    out: Path, database_id: int | None = None, currency: str = DEFAULT_CURRENCY
) -> list[Path]:
    """Write every template's payloads, money in ``currency``, under ``out``; return the
    files written.

    Without ``database_id`` the cards' ``dataset_query.database`` is null, and
    import.sh fills it in.
    """
    bundles = build_bundles(database_id, currency=currency)
    validate(bundles)
    written: list[Path] = []
    manifest: dict[str, Any] = {
        "metabase_version": METABASE_VERSION,
        "database_id": database_id,
        "currency": currency,
        "dashboards": [],
    }
    for bundle in bundles:
        directory = out / bundle.directory
        for stale in (directory / "cards").glob("*.json"):
            stale.unlink()
        for name, body in (
            *bundle.cards.items(),
            ("dashboard.json", bundle.dashboard),
            ("dashcards.json", {"dashcards": bundle.dashcards}),
        ):
            written.append(_write_json(directory / name, body))
        manifest["dashboards"].append(
            {
                "name": bundle.dashboard["name"],
                "directory": bundle.directory,
                "cards": list(bundle.cards),
                "dashboard": "dashboard.json",
                "dashcards": "dashcards.json",
            }
        )
    written.append(_write_json(out / "manifest.json", manifest))
    script = out / "import.sh"
    shutil.copyfile(IMPORT_SCRIPT, script)
    script.chmod(0o755)
    written.append(script)
    return written


def _write_json(path: Path, body: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n")
    return path
