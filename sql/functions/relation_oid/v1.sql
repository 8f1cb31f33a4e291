CREATE FUNCTION analytics.relation_oid(relation_name text, search_path name[]) RETURNS oid
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    parts text[];
BEGIN
    BEGIN
        parts := pg_catalog.parse_ident(relation_oid.relation_name);
    EXCEPTION WHEN invalid_parameter_value THEN
        RETURN NULL;
    END;
    RETURN (
        SELECT c.oid
        FROM pg_catalog.pg_class c
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relname = parts[pg_catalog.array_length(parts, 1)]
          AND CASE pg_catalog.array_length(parts, 1)
                  WHEN 2 THEN n.nspname = parts[1]
                  WHEN 1 THEN n.nspname = ANY (relation_oid.search_path)
                  ELSE false
              END
        ORDER BY pg_catalog.array_position(relation_oid.search_path, n.nspname)
        LIMIT 1);
END
$$;
COMMENT ON FUNCTION analytics.relation_oid(text, name[]) IS
    'Oid of a relation by name (schema-qualified, or looked up along the given schemas: pass current_schemas(true)), from the catalog alone: unlike to_regclass it needs no privilege on the schema. Null for an unknown or malformed name.';
