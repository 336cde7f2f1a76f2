"""Suite-wide fixtures: staff of each role, signed-in clients, API clients with tokens, and real processes (a Celery
worker, a private Redis server) for the behaviour that only shows with them."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis
from celery._state import _set_task_join_will_block  # type: ignore[attr-defined]  # (not in the stubs)
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.test.client import ClientMixin
from django_otp import DEVICE_ID_SESSION_KEY
from rest_framework.test import APIClient

from crm.celery import app as celery_app
from customers import contrib
from customers.contrib import Contribution
from shop.models import User
from shop.roles import Role
from shop.services import IssuedToken, token_issue
from shop.twofactor import ENROLLED_SESSION_KEY
from tests.factories import make_user, second_factor_device_for_tests
from tests.prerequisites import prerequisite_missing

# Django's own sign-in of the test client, kept before the fixture below wraps it.
password_only_login = ClientMixin._login  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """The shop settings are cached per process; a rolled-back test must not leave its copy behind."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _force_login_passes_the_second_factor(monkeypatch: pytest.MonkeyPatch) -> None:
    """``client.force_login(user)`` stands for a whole sign-in, the code included: a user whose role asks for the
    second factor gets a confirmed authenticator and a verified session, as after typing its code. The sign-in steps
    themselves are tested through the real pages (tests/shop/test_second_factor.py) with
    ``sign_in_without_second_factor`` where a test needs the half-signed-in state."""

    def login(self: ClientMixin, user: User, backend: str | None = None) -> None:
        password_only_login(self, user, backend)
        device = second_factor_device_for_tests(user)
        if device is not None:
            session = self.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session[ENROLLED_SESSION_KEY] = True
            session.save()

    monkeypatch.setattr(ClientMixin, "_login", login)


def sign_in_without_second_factor(client: Client, user: User) -> None:
    """A session after the password step only, as ``force_login`` gave before the second factor existed."""
    password_only_login(client, user, None)


@pytest.fixture
def owner(db: None) -> User:
    return make_user(Role.OWNER, username="owner")


@pytest.fixture
def manager(db: None) -> User:
    return make_user(Role.MANAGER, username="manager")


@pytest.fixture
def operator(db: None) -> User:
    return make_user(Role.OPERATOR, username="operator", extension="101")


@pytest.fixture
def client_for(db: None) -> Callable[[str | None], Client]:
    """A signed-in page client for a role name (``None``: anonymous)."""

    def build(role: str | None) -> Client:
        client = Client()
        if role is not None:
            client.force_login(make_user(role if role != "norole" else None))
        return client

    return build


@pytest.fixture
def schema_restored() -> Iterator[None]:
    """For a test that migrates the database back to test a data migration: afterwards, pass or fail, the schema is
    migrated forward to the latest migrations again. The test database is reused between runs and by the tests
    after this one in the same process, so a schema left behind would break them (a column "does not exist")."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.fixture
def api_client_for(db: None) -> Callable[..., APIClient]:
    """An API client with a fresh integration token of the given scopes (bound to ``sources``, default its own)."""

    def build(*scopes: str, sources: tuple[str, ...] = ()) -> APIClient:
        issued: IssuedToken = token_issue(name="test", scopes=list(scopes), created_by=None, sources=sources)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.key}")
        return client

    return build


def free_port() -> int:
    """A TCP port nobody listens on right now (the OS picks it, so parallel test processes never collide)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _stop_process(process: "subprocess.Popen[bytes]", timeout: float = 15) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def _tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class RedisServer:
    """A private redis-server the test may stop, so outages are tested for real without touching the shared one."""

    port: int
    process: "subprocess.Popen[bytes]"
    log_path: Path

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        _stop_process(self.process)

    def restart(self) -> None:
        """Start again on the same port after :meth:`stop`, empty (no persistence), as after an outage."""
        executable = shutil.which("redis-server")
        assert executable is not None and self.process.poll() is not None
        for attempt in range(20):  # the port may linger for a moment after the stop
            server = _start_redis(executable, self.log_path.with_suffix(f".restart-{attempt}.log"), port=self.port)
            if server is not None:
                self.process = server.process
                return
            time.sleep(0.1)
        pytest.fail(f"redis-server did not restart on port {self.port}")


def _start_redis(executable: str, log_path: Path, port: int | None = None) -> "RedisServer | None":
    port = port or free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=log_path.parent,
        )
    server = RedisServer(port=port, process=process, log_path=log_path)
    deadline = time.monotonic() + 10
    while process.poll() is None and time.monotonic() < deadline:
        try:
            with redis.Redis(port=port, socket_connect_timeout=0.5) as client:
                # Our server answers with its own pid: a PONG from a stranger that took the port does not count.
                if client.info("server")["process_id"] == process.pid:
                    return server
        except redis.ConnectionError:
            time.sleep(0.05)
            continue
        break
    server.stop()
    return None


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A throwaway redis-server on a free port, answering PING; stopped after the test if the test did not."""
    executable = shutil.which("redis-server")
    if executable is None:
        prerequisite_missing("redis-server is not installed: install redis-server (Debian package redis-server)")
    # The port is free when chosen but another process may take it before redis binds: try a few.
    for attempt in range(3):
        server = _start_redis(executable, tmp_path / f"redis-{attempt}.log")
        if server is not None:
            break
    else:
        pytest.fail(f"redis-server did not start:\n{_tail(tmp_path / 'redis-2.log')}")
    yield server
    server.stop()


def database_url_of_this_process() -> str:
    """The database this test process talks to, as a URL: after ``transactional_db`` it is the test database, so a
    worker started with it sees the rows the test committed."""
    config = connection.settings_dict
    credentials = config["USER"] or ""
    if config["PASSWORD"]:
        credentials += f":{config['PASSWORD']}"
    host = f"{config['HOST'] or '127.0.0.1'}:{config['PORT'] or 5432}"
    return f"postgres://{credentials}@{host}/{config['NAME']}" if credentials else f"postgres://{host}/{config['NAME']}"


@dataclass
class WorkerProcess:
    """A real ``celery -A crm worker`` consuming one queue; ``stop`` shuts it down warmly, ``kill`` like a crash."""

    queue: str
    nodename: str
    process: "subprocess.Popen[bytes]"
    log_path: Path
    environment: dict[str, str] = field(repr=False)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        _stop_process(self.process)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=5)


@pytest.fixture
def celery_worker_process(tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Start real Celery workers with ``start(queue=..., env={...})``; every one is stopped after the test.

    The worker runs ``crm.settings`` with ``DJANGO_ENV=test``, the broker from ``REDIS_URL`` and this process's
    database (request ``transactional_db`` first when the task reads rows the test wrote). While a worker fixture
    is active, tasks sent from the test go to the broker instead of running eagerly. Skips when ``REDIS_URL`` is
    unset (fails under CI): the demo's filesystem broker is not what production runs on.
    """
    redis_url = os.environ.get("REDIS_URL", "")
    if not redis_url:
        prerequisite_missing(
            "REDIS_URL is not set: a real Celery worker needs Redis, e.g. REDIS_URL=redis://127.0.0.1:6379/1"
        )
    was_eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    started: list[WorkerProcess] = []

    def start(
        queue: str | None = None, *, env: Mapping[str, str] | None = None, ready_timeout: float = 120
    ) -> WorkerProcess:
        queue = queue or f"test-{uuid.uuid4().hex[:12]}"
        nodename = f"{queue}@{socket.gethostname()}"
        # Celery marks "a task is running here, never wait for a result" in one flag for the whole process, set and
        # put back around each eager task. Two threads of an earlier test running eager tasks at once (the
        # concurrency tests) can put it back in the wrong order and leave it set, and then the test's
        # ``result.get()`` refuses with "Never call result.get() within a task!". This process is never a worker:
        # no task of its own runs while it waits for one sent to a worker.
        _set_task_join_will_block(False)
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "crm.settings",
            "DJANGO_ENV": "test",
            "REDIS_URL": redis_url,
            "DATABASE_URL": database_url_of_this_process(),
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        log_path = tmp_path / f"worker-{queue}.log"
        command = [
            sys.executable, "-m", "celery", "-A", "crm", "worker", "--pool=solo", "--loglevel=INFO",
            "-Q", queue, "-n", nodename, "--without-mingle", "--without-gossip",
        ]  # fmt: skip
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=environment, cwd=django_settings.BASE_DIR
            )
        worker = WorkerProcess(queue, nodename, process, log_path, environment)
        started.append(worker)
        deadline = time.monotonic() + ready_timeout
        # Ready means it answers a broadcast: from then on a message sent to its queue is consumed.
        while not celery_app.control.ping(destination=[nodename], timeout=0.5):
            if process.poll() is not None or time.monotonic() > deadline:
                worker.stop()
                pytest.fail(f"Celery worker {nodename} did not become ready:\n{_tail(log_path)}")
        return worker

    yield start
    for worker in started:
        worker.stop()
    celery_app.conf.task_always_eager = was_eager


@pytest.fixture
def contribute(monkeypatch: pytest.MonkeyPatch) -> Callable[[Contribution], None]:
    """Register a contribution to the customer (``customers.contrib``) for one test only, the way an app does
    from its ``AppConfig.ready``; the registry is restored afterwards."""
    monkeypatch.setattr(contrib, "_CONTRIBUTIONS", dict(contrib._CONTRIBUTIONS))
    return contrib.contribution_register
