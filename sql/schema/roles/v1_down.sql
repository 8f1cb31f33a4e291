-- Undo v1.sql (the migration has revoked the roles' privileges first).

DROP FUNCTION analytics.sources_have_rows(text);
DROP FUNCTION analytics.log_refresh_failure(text, text, timestamptz, text, text);
DROP FUNCTION analytics.relation_oid(text, name[]);

ALTER FUNCTION analytics.refresh_lock_class() RESET search_path;

GRANT EXECUTE ON FUNCTION analytics.request_refresh(text) TO PUBLIC;
ALTER FUNCTION analytics.request_refresh(text) SECURITY INVOKER;

GRANT EXECUTE ON FUNCTION analytics.refresh_view(text, boolean, text, boolean, boolean) TO PUBLIC;
ALTER FUNCTION analytics.refresh_view(text, boolean, text, boolean, boolean) SECURITY INVOKER;

DROP TABLE analytics.package_roles;
