"""The package's floors: each module imports only from its own floor or the ones below.

From the bottom: names, paths, the connection (db) and console output; what the
database's catalog says (catalog, contract); the migration verbs and deploy;
the runtime library (refresh, status, health, events, schedules, drift); the
surfaces (cli, api, dashboards). ``demo`` is development tooling beside them,
used by the CLI only.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "soleflip_analytics"
FLOORS = {
    "names": 0, "paths": 0, "db": 0, "console": 0, "arguments": 0,
    "catalog": 1, "contract": 1, "deploy_locks": 1,
    "view_migrations": 2, "roles": 2, "deploy": 2,
    "refresh": 3, "status": 3, "health": 3, "events": 3, "schedules": 3, "drift": 3,
    "demo": 3,
    "cli": 4, "api": 4, "dashboards": 4,
}


def _floor(module: str) -> int:
    """The floor of soleflip_analytics.<top>..., by its first component."""
    return FLOORS[module.split(".")[0]]


def _imports(path: Path) -> set[str]:
    """The modules of the package that a file imports, anywhere in it, without the prefix."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] if node.module != "soleflip_analytics" else [
                alias.name for alias in node.names
            ]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            if name.startswith("soleflip_analytics."):
                found.add(name.removeprefix("soleflip_analytics."))
            elif name in FLOORS:  # from soleflip_analytics import <module>
                found.add(name)
    return found


MODULES = sorted(
    path for path in PACKAGE.rglob("*.py") if path.relative_to(PACKAGE).parts[0] != "__init__.py"
)


def test_every_module_has_a_floor() -> None:
    tops = {path.relative_to(PACKAGE).parts[0].removesuffix(".py") for path in MODULES}
    assert tops <= set(FLOORS), f"modules without a floor: {sorted(tops - set(FLOORS))}"


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(PACKAGE)))
def test_no_module_imports_from_a_floor_above_its_own(path: Path) -> None:
    own = _floor(".".join(path.relative_to(PACKAGE).with_suffix("").parts))
    above = sorted(module for module in _imports(path) if _floor(module) > own)
    assert not above, f"{path.relative_to(PACKAGE)} (floor {own}) imports from above: {above}"


def test_the_runtime_library_does_not_load_alembic() -> None:
    code = (
        "import sys, soleflip_analytics; soleflip_analytics.refresh_views; "
        "assert 'alembic' not in sys.modules, 'alembic was imported'"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr


def test_upgrade_is_still_importable_from_the_package() -> None:
    code = "from soleflip_analytics import downgrade, upgrade; print(upgrade.__module__)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "soleflip_analytics.deploy"
