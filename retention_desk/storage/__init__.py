"""Storage: the only layer that knows SQL (tables, engine and sessions, queries, migrations)."""
