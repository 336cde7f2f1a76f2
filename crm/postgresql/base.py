"""Django's PostgreSQL backend whose per-request health check of a kept connection costs no round trip.

With ``CONN_HEALTH_CHECKS`` Django sends ``SELECT 1`` before the first query of every request that reuses a
connection, so a connection the server closed while it sat idle (a restart, a terminated backend, an idle timeout)
is replaced before the request uses it instead of failing it with a 500. That is a fourth statement on the caller
lookup's three (token, card, audit entry), a round trip for the worker and for PostgreSQL each time.

A connection the server closed has something to read: PostgreSQL sends the error that ends the session, then the
socket's end, and an idle connection of ours is otherwise silent (nothing here LISTENs). So the check here asks the
socket, without sending anything, whether anything arrived; only then does it run Django's ``SELECT 1``, which fails
on a closed connection (then it is replaced) and reads whatever else came (then it is kept). A connection libpq
already knows is broken is replaced at once. A peer that vanished without closing (no FIN) passes, as it passed
``SELECT 1`` only after the system's TCP timeout; the query that meets it fails and Django closes the connection
at the end of that request, as before.
"""

import select

from django.db.backends.postgresql import base


def _has_data_waiting(raw: object) -> bool:
    """Whether the server sent anything on an idle connection, or closed it (checked without blocking)."""
    poller = select.poll()
    poller.register(raw.fileno(), select.POLLIN)  # type: ignore[attr-defined]
    return bool(poller.poll(0))


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self) -> None:
        raw = self.connection
        done = bool(getattr(self, "health_check_done", False))
        if not done and raw is not None and not raw.closed and not _has_data_waiting(raw):
            self.health_check_done = True  # nothing arrived: the connection is as the last request left it
            return
        # Something arrived, or libpq knows the connection is broken: Django's check (SELECT 1) decides.
        super().close_if_health_check_failed()
