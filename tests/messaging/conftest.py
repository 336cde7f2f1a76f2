from collections.abc import Iterator

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


@pytest.fixture
def schema_restored() -> Iterator[None]:
    """For a test that migrates the database back to test a data migration: afterwards, pass or fail, the schema is
    migrated forward to the latest migrations again. The test database is reused between runs and by the tests
    after this one in the same process, so a schema left behind would break them (a column "does not exist")."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
