from sqlalchemy import text
def test_probe(migrated_engine):
    with migrated_engine.begin() as c:
        print(c.execute(text("select gen_random_uuid(), now(), 1::bigint, 2::int, 1.5::numeric, current_setting('TimeZone'), version()")).one())
        print(c.execute(text("select datcollate, datctype from pg_database where datname=current_database()")).one())
        c.execute(text("begin")) if False else None
        c.execute(text("REFRESH MATERIALIZED VIEW CONCURRENTLY analytics.metabase_executive_metrics"))
