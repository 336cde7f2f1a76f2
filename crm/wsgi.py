import gc
import os

import django
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
django.setup(set_prefix=False)

from crm.handlers import RetainWSGIHandler  # noqa: E402 (needs the apps loaded)

application = RetainWSGIHandler()

# The worker imports its views now (the URLconf imports them), then moves everything alive so far (modules, models,
# serializers, settings: objects that live as long as the process) out of the collector's reach. Without it every
# full collection walked those objects again: an API batch of 1,000 orders allocates enough to trigger one every two
# or three batches, and the collector took about a fifth of the batch's Python CPU (docs/benchmarks.md, issue #11).
get_resolver().url_patterns  # noqa: B018  (the attribute's evaluation is the import)
gc.freeze()
