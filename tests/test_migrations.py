"""The migrations: down to nothing and up again, on SQLite and PostgreSQL, matching the models."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, inspect

import domain.models  # noqa: F401  (registers every table on Base)
from domain.db import Base
from domain.migrate import alembic_config, upgrade


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_the_schema_goes_down_to_nothing_and_up_again(database_url: str) -> None:
    assert _tables(database_url) == set(Base.metadata.tables)
    command.downgrade(alembic_config(database_url), "base")
    assert _tables(database_url) == set()
    upgrade(database_url)
    assert _tables(database_url) == set(Base.metadata.tables)
