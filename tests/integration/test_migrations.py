"""The migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from sequencer.store.db import make_engine
from sequencer.store.migrate import alembic_config, current
from sequencer.store.models import Base


def test_the_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert differences == [], "a model changed without a migration (alembic revision)"
    assert current(database_url) == script_head()


def script_head() -> str | None:
    """The newest migration on disk: the database must be at it after ``upgrade``."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
