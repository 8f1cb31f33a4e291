"""Reading the view files for drift detection: statements, and WITH NO DATA."""

from __future__ import annotations

from soleflip_analytics.drift import _code, _without_data, split_statements
from soleflip_analytics.paths import sql_dir


def test_semicolons_in_strings_identifiers_comments_and_bodies_do_not_split() -> None:
    sql = """
        -- a comment; with a semicolon
        CREATE MATERIALIZED VIEW v AS SELECT 'a;b' AS "odd;name", 'it''s;' AS s;
        /* block; comment */
        CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $body$ SELECT 1; $body$;
        COMMENT ON COLUMN v.s IS $$x;y$$;
        -- trailing comment only
    """
    statements = [statement.strip() for statement in split_statements(sql)]
    assert len(statements) == 3
    assert statements[0].endswith("""'it''s;' AS s""")
    assert statements[1].endswith("$body$ SELECT 1; $body$")
    assert statements[2] == "COMMENT ON COLUMN v.s IS $$x;y$$"


def test_only_the_materialized_view_is_built_without_data() -> None:
    create = "-- the view\nCREATE MATERIALIZED VIEW v AS SELECT 1 -- one\n"
    assert _without_data(create) == create + "\nWITH NO DATA"
    assert _without_data("CREATE MATERIALIZED VIEW v AS SELECT 1 WITH DATA").endswith(
        "SELECT 1\nWITH NO DATA")
    assert _without_data("CREATE INDEX i ON v (a)") == "CREATE INDEX i ON v (a)"


def test_every_view_file_is_one_view_then_its_indexes_and_comments() -> None:
    files = sorted((sql_dir() / "views").glob("*/v*.sql"))
    assert files
    for path in files:
        heads = [" ".join(_code(statement).split()[:2]).upper()
                 for statement in split_statements(path.read_text())]
        assert heads[0] == "CREATE MATERIALIZED", path
        assert "CREATE UNIQUE" in heads and "COMMENT ON" in heads, path
        assert set(heads[1:]) <= {"CREATE UNIQUE", "CREATE INDEX", "COMMENT ON"}, path
