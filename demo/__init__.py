"""The demo shop's data: believable customers and two years of orders (``seed/``, written with COPY as the
benchmarks do), their survey history (``surveys``), a loyalty programme with its history (``loyalty``) and one
account per role, behind the commands ``create_demo_users``, ``seed_demo``, ``seed_feedback`` and ``seed_loyalty``.

It sits above every domain app and writes through their models and services; no domain app imports it
(``tests/crm/test_layering.py`` checks), so none of this code is on a request's path."""
