"""Chunks of the demo shop, one transaction each, in this process or in a few worker processes.

On a 2-core machine the seeder and PostgreSQL take turns: numpy draws and formats a chunk, then one backend spends
most of the chunk's time inside COPY on one core. Two processes keep both cores busy. Ids come from the tables'
sequences, so the workers never collide, and each chunk draws from its own random stream.
"""

import multiprocessing
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from django.db import connection, connections, transaction

from demo.seed.shop import ChunkCounts, Period, seed_chunk
from demo.seed.writers import Writer


@dataclass(frozen=True)
class Plan:
    period: Period
    currency: str
    tag_ids: dict[str, int]
    entropy: int


def seed_one(plan: Plan, index: int, size: int) -> tuple[ChunkCounts, float, int]:
    """Chunk ``index`` of ``size`` customers in one transaction: (counts, seconds, rows written)."""
    started = time.monotonic()
    writer = Writer()
    rng = np.random.default_rng(np.random.SeedSequence(plan.entropy, spawn_key=(index,)))
    with transaction.atomic():
        if _may_skip_key_checks():
            # Every foreign key of a chunk points at a row written just before it in the same transaction, by
            # construction (the tests check it). Checking ten million of them again at commit took a third of the
            # time, so where the role may, the chunk skips the key triggers the way pg_restore --disable-triggers does.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
        counts = seed_chunk(writer, rng, size, plan.period, plan.currency, plan.tag_ids)
    return counts, time.monotonic() - started, writer.rows_written


def _may_skip_key_checks() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        found = cursor.fetchone()
    return bool(found and found[0])


def _seed_in_worker(job: tuple[Plan, int, int]) -> tuple[ChunkCounts, float, int]:
    try:
        return seed_one(*job)
    finally:
        connections.close_all()


def run_chunks(plan: Plan, sizes: list[int], workers: int) -> Iterator[tuple[ChunkCounts, float, int]]:
    """Seed every chunk, yielding each one's figures as it commits."""
    jobs = [(plan, index, size) for index, size in enumerate(sizes)]
    if workers == 1:
        for job in jobs:
            yield seed_one(*job)
        return
    # The workers are forked with the settings already loaded; each opens its own connection, never the parent's.
    connections.close_all()
    with multiprocessing.get_context("fork").Pool(workers, maxtasksperchild=1) as pool:
        yield from pool.imap_unordered(_seed_in_worker, jobs)
