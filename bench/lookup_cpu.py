"""The caller lookup's CPU per request, in one process: the WSGI application gunicorn runs, called directly.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/retain_bench REDIS_URL=redis://127.0.0.1:6379/12 \
        .venv/bin/python bench/lookup_cpu.py [--requests 2000] [--profile out.prof]

A load-independent figure for issue #17 beside ``bench/lookup.py``'s latency: the process's CPU seconds (user +
system) divided by the lookups, and the CPU of the PostgreSQL backend that served them (read from ``/proc``), for
the same middleware, authentication, token limit (Redis when ``REDIS_URL`` is set), audit entry and answer as over
HTTP; only gunicorn's own HTTP parsing is left out. It issues a lookup-scoped token, warms the process (the card's
query is compiled and prepared), then times ``--requests`` lookups of random known numbers in the formats people
type. ``--profile`` writes a cProfile of the timed loop; with
``--callgrind`` under ``valgrind --tool=callgrind --instr-atstart=no`` only the timed lookups are counted, and the
instructions valgrind reports ("Collected") divided by ``--requests`` do not depend on the machine's load. Writes what a lookup writes: an audit entry per request.
"""

import argparse
import cProfile
import io
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("LOG_LEVEL", "WARNING")
# One PostgreSQL backend for the whole run, so its CPU can be read (a connection is otherwise replaced every minute).
os.environ.setdefault("DB_CONN_MAX_AGE", "3600")


def backend_cpu_seconds(pid: int) -> float:
    """User + system CPU of a local process, from ``/proc/<pid>/stat``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--profile", help="write a cProfile of the timed lookups to this file")
    parser.add_argument(
        "--callgrind",
        action="store_true",
        help="run under `valgrind --tool=callgrind --instr-atstart=no`: only the timed lookups are counted",
    )
    args = parser.parse_args()

    from django.db import connection

    from bench.lookup import human_formats, sample_phones
    from crm.wsgi import application
    from shop.roles import Capability
    from shop.services import token_issue

    phones = sample_phones()
    token = token_issue(
        name="bench lookup cpu", scopes=[Capability.LOOKUP], created_by=None, lookup_rate_per_second=10**6
    ).key
    rng = random.Random(17)
    statuses: dict[str, int] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        statuses[status[:3]] = statuses.get(status[:3], 0) + 1

    def environ() -> dict[str, object]:
        phone = rng.choice(human_formats(rng.choice(phones)))
        return {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": "/api/v1/callers/lookup",
            "QUERY_STRING": urlencode({"phone": phone}),
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "REMOTE_ADDR": "127.0.0.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "127.0.0.1:8000",
            "HTTP_AUTHORIZATION": f"Bearer {token}",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }

    def lookup() -> None:
        response = application(environ(), start_response)
        b"".join(response)
        response.close()  # request_finished: what closes or keeps the connection, as under gunicorn

    for _ in range(200):  # warm: compile and prepare the card's query, fill the per-process caches
        lookup()

    def backend_pid() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            return int(cursor.fetchone()[0])

    backend = backend_pid()
    statuses.clear()
    # CPU time, not wall: on a shared machine the waits for PostgreSQL and Redis would drown the Python.
    profiler = cProfile.Profile(time.thread_time) if args.profile else None
    backend_before, cpu_before, wall_before = backend_cpu_seconds(backend), time.process_time(), time.monotonic()
    if profiler:
        profiler.enable()
    if args.callgrind:
        subprocess.run(["callgrind_control", "--instr=on", str(os.getpid())], check=True, capture_output=True)
    for _ in range(args.requests):
        lookup()
    if args.callgrind:
        subprocess.run(["callgrind_control", "--instr=off", str(os.getpid())], check=True, capture_output=True)
    if profiler:
        profiler.disable()
    cpu = time.process_time() - cpu_before
    wall = time.monotonic() - wall_before
    backend_cpu = backend_cpu_seconds(backend) - backend_before
    same_backend = backend_pid() == backend
    if profiler:
        profiler.dump_stats(args.profile)
    print(f"lookups: {args.requests:,}, answers: {dict(sorted(statuses.items()))}, load average: {os.getloadavg()}")
    print(
        f"CPU per lookup, ms: this process {cpu * 1000 / args.requests:.2f}, "
        f"PostgreSQL backend {backend_cpu * 1000 / args.requests:.2f}"
        f"{'' if same_backend else ' (the connection changed: backend figure incomplete)'}; "
        f"wall {wall * 1000 / args.requests:.2f} ms a lookup"
    )


if __name__ == "__main__":
    main()
