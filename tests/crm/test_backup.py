"""A backup restores: scripts/backup_check.sh dumps a seeded database with pg_dump -Fc, restores it into an empty
one with pg_restore, and finds every table's rows and every sequence equal."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.conftest import database_url_of_this_process
from tests.factories import CustomerFactory, MessageFactory
from tests.feedback.helpers import deliver

SCRIPT = Path(settings.BASE_DIR) / "scripts" / "backup_check.sh"


def _rows_in_public_tables() -> tuple[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT quote_ident(table_name) FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        )
        tables = [name for (name,) in cursor.fetchall()]
        total = 0
        for table in tables:
            cursor.execute(f"SELECT count(*) FROM public.{table}")  # noqa: S608 - names from the catalogue
            total += cursor.fetchone()[0]
    return len(tables), total


@pytest.mark.django_db(transaction=True)
def test_a_dump_of_a_seeded_base_restores_with_every_row(tmp_path: Path) -> None:
    for tool in ("pg_dump", "pg_restore", "psql", "createdb", "dropdb"):
        assert shutil.which(tool), f"{tool} is needed to check backups"
    for number in range(5):
        deliver(f"B-{number}", email=f"b{number}@example.com", phone=f"+7999000{number:04d}")
    MessageFactory.create(customer=CustomerFactory.create(name="Вера «Ёлкина»\tс табуляцией"))
    tables, rows = _rows_in_public_tables()
    dump = tmp_path / "retain.dump"

    result = subprocess.run(
        [str(SCRIPT), database_url_of_this_process(), "--keep", str(dump)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"OK — {tables} tables, {rows} rows" in result.stdout
    assert dump.read_bytes().startswith(b"PGDMP")  # the custom format pg_restore reads
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_database WHERE datname LIKE 'retain_restore_check_%%'")
        assert cursor.fetchone()[0] == 0, "the scratch copy is dropped"
    assert re.search(r"\(\d+(\.\d+)?[KM] dump\)", result.stdout)
