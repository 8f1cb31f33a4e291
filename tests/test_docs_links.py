"""The README and docs/ pages: every relative link resolves, the README stays a short front door.

No database: this reads the Markdown files (and the names of the SQL files) only.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [README, *DOCS]
README_MAX_LINES = 250

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^\s*(```|~~~)")
INLINE_CODE = re.compile(r"`[^`]*`")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")


def _prose_lines(path: Path) -> list[str]:
    """The lines of a page outside fenced code blocks."""
    lines, in_fence = [], False
    for line in path.read_text().splitlines():
        if FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence:
            lines.append(line)
    return lines


def _anchors(path: Path) -> set[str]:
    """The anchors GitHub gives the headings of a page."""
    anchors: set[str] = set()
    for line in _prose_lines(path):
        match = HEADING.match(line)
        if not match:
            continue
        base = re.sub(r"[^\w\- ]", "", match.group(1).strip().lower()).replace(" ", "-")
        anchor, n = base, 0
        while anchor in anchors:
            n += 1
            anchor = f"{base}-{n}"
        anchors.add(anchor)
    return anchors


def _relative_links(path: Path) -> list[str]:
    links = []
    for line in _prose_lines(path):
        links += LINK.findall(INLINE_CODE.sub("", line))
    return [link for link in links if not re.match(r"^[a-z][a-z0-9+.-]*:", link)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page: Path) -> None:
    broken = []
    for link in _relative_links(page):
        target, _, anchor = link.partition("#")
        resolved = (page.parent / target).resolve() if target else page
        if not resolved.exists():
            broken.append(f"{link}: no such file")
        elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
            broken.append(f"{link}: no heading with anchor #{anchor}")
    assert not broken, f"{page.relative_to(ROOT)}: " + "; ".join(broken)


def test_every_docs_page_is_linked_from_the_readme_and_the_index() -> None:
    for index in (README, ROOT / "docs" / "index.md"):
        links = _relative_links(index)
        linked = {(index.parent / link.partition("#")[0]).resolve() for link in links}
        missing = [p.name for p in DOCS if p not in linked and p != index]
        assert not missing, f"{index.name} does not link {missing}"


def test_the_readme_is_a_short_front_door() -> None:
    lines = len(README.read_text().splitlines())
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines; at most {README_MAX_LINES}"


def test_the_sql_map_names_every_versioned_file() -> None:
    """sql/README.md maps objects to files: a new vN.sql (or its _down) is added to it."""
    sql = ROOT / "sql"
    text = (sql / "README.md").read_text()
    unnamed = []
    for path in sorted(sql.glob("*/*/v*.sql")):
        named = path.relative_to(sql).as_posix()
        if path.stem.endswith("_down"):
            up = named.replace("_down.sql", ".sql")
            named = f"`{up}` (undone by `{path.name}`)"
        if named not in text:
            unnamed.append(named)
    assert unnamed == [], f"sql/README.md does not name: {unnamed}"
