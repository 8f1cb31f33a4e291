CREATE FUNCTION analytics.allows_concurrent_refresh(index_oid oid) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT i.indisunique AND i.indisvalid AND i.indimmediate
           AND i.indpred IS NULL AND i.indexprs IS NULL
    FROM pg_catalog.pg_index i
    WHERE i.indexrelid = index_oid
$$;
COMMENT ON FUNCTION analytics.allows_concurrent_refresh(oid) IS
    'True for a valid unique index on plain columns without WHERE: what REFRESH MATERIALIZED VIEW CONCURRENTLY needs.';
