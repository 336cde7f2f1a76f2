"""The demo shop behind ``manage.py seed_demo``: draws (``people``, ``purchases``), words (``vocabulary``), the
chunk that ties them together (``shop``) and the bulk writers (``writers``)."""
