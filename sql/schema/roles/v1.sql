-- Least privilege: the routines a refresher role may call without owning the
-- views or writing to anything itself, and the record of the package's roles.
--
-- Refreshing a materialized view takes its ownership, and refreshing it
-- concurrently the TEMP privilege on the database. So the routines below that
-- refresh or write the package's bookkeeping run as their owner, the role that
-- deployed the views (SECURITY DEFINER), with search_path pinned to
-- pg_catalog, pg_temp (pg_temp last: nobody's temporary objects shadow a
-- name) and every name schema-qualified. Nobody may execute them but the
-- owner and the roles the migration grants EXECUTE to: each takes a view name
-- as a parameter and checks it against the catalog (analytics.matview_oid),
-- and builds SQL from it only with format('%I').
--
-- The roles themselves are created and granted by the migration (their names
-- are configurable); soleflip_analytics/roles.py lists what each may do.

CREATE TABLE analytics.package_roles (
    role_name           name PRIMARY KEY,
    purpose             text NOT NULL UNIQUE CHECK (purpose IN ('reader', 'refresher')),
    created_by_package  boolean NOT NULL,
    granted_by          name NOT NULL DEFAULT current_user
);
COMMENT ON TABLE analytics.package_roles IS
    'The roles soleflip-analytics grants privileges to: reader (Metabase: the views and nothing else) and refresher (the application: refresh and status). A downgrade revokes what was granted and drops only the roles the package created.';
COMMENT ON COLUMN analytics.package_roles.role_name IS 'The group role (NOLOGIN when the package created it).';
COMMENT ON COLUMN analytics.package_roles.purpose IS 'reader or refresher.';
COMMENT ON COLUMN analytics.package_roles.created_by_package IS
    'True when the migration created the role; false when it existed before and is left in place on downgrade.';
COMMENT ON COLUMN analytics.package_roles.granted_by IS
    'The deploying role that granted the privileges and set the default privileges in schema analytics.';

-- ---------------------------------------------------------------------------
-- Refresh and request as the views' owner.

ALTER FUNCTION analytics.refresh_view(text, boolean, text, boolean, boolean) SECURITY DEFINER;
REVOKE EXECUTE ON FUNCTION analytics.refresh_view(text, boolean, text, boolean, boolean) FROM PUBLIC;

ALTER FUNCTION analytics.request_refresh(text) SECURITY DEFINER;
REVOKE EXECUTE ON FUNCTION analytics.request_refresh(text) FROM PUBLIC;

-- The last routine of the package without a pinned search_path.
ALTER FUNCTION analytics.refresh_lock_class() SET search_path = pg_catalog, pg_temp;

-- ---------------------------------------------------------------------------
-- What a caller without write access, and without any privilege on the shop's
-- schemas, needs besides: finding a table by name (for affected_by), logging a
-- refresh that failed outside refresh_view, and the health check's look at
-- the sources.

\ir ../../functions/relation_oid/v1.sql

\ir ../../functions/log_refresh_failure/v1.sql
REVOKE EXECUTE ON FUNCTION analytics.log_refresh_failure(text, text, timestamptz, text, text)
    FROM PUBLIC;
COMMENT ON FUNCTION analytics.log_refresh_failure(text, text, timestamptz, text, text) IS
    'Log a refresh of a view of schema analytics that failed outside analytics.refresh_view (a lost connection, say): a failed entry only, so that a caller cannot record a success.';

\ir ../../functions/sources_have_rows/v1.sql
REVOKE EXECUTE ON FUNCTION analytics.sources_have_rows(text) FROM PUBLIC;
COMMENT ON FUNCTION analytics.sources_have_rows(text) IS
    'True when the view reads at least one source and every source it reads holds rows; for the health check of a role that may not read the sources themselves.';
