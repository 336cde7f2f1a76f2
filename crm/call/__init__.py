"""The call centre: the operator's console, the caller's card on a ring, the lookup API for telephony, and the
offers and recommended action the operator acts on.

- ``card``: :func:`crm.call.card.caller_card`, composed from every app's data with a fixed number of queries;
- ``offers``: the rules behind the offers and the recommended action;
- ``views``, ``forms``, ``urls``: the console at ``/call/``; ``api``: ``GET /api/v1/callers/lookup``.
"""
