"""The customer list's "has an active coupon" filter (loyalty.listing): a partial index on ``(customer,
valid_until)`` over unused, unrevoked coupons, so the semi-join a page makes per customer reads only live coupons.

Built concurrently, outside a transaction, like the list's other indexes, so a shop with millions of coupons keeps
taking orders while it builds.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("loyalty", "0002_promo_batch_switched_off"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="coupon",
            index=models.Index(
                condition=models.Q(("revoked_at__isnull", True), ("used_at__isnull", True)),
                fields=["customer", "valid_until"],
                name="loyalty_coupon_open",
            ),
        ),
    ]
