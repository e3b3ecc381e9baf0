"""Alembic migrations for the engine's schema; run them with ``engine.migrate.upgrade_database``."""
