"""The customer search's indexes on a million customers: ``EXPLAIN (ANALYZE, BUFFERS)`` of the page query the
list's selector sends for each kind of search, each repeated, with the indexes the plan reads.

Read-only: the whole run is one ``READ ONLY`` transaction, so it may point at a shared benchmark base. The values
searched for are drawn from the base itself (a surname, a whole name surname first, a phone typed as a person types
it, its last four digits, an email, an order number), so every search finds someone. The search box's form reads
the text exactly as on the page (``CustomerFilterForm``).

    DATABASE_URL=postgres://…/retain_bench .venv/bin/python -m bench.search_indexes --repeat 3
"""

from __future__ import annotations

import argparse
import os
import statistics
from collections.abc import Callable

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="EXPLAIN ANALYZE runs of each search")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection, transaction

    from bench.customers_list import explain, sent_queries
    from customers.forms import CustomerFilterForm
    from customers.models import Customer, CustomerEmail, CustomerPhone
    from customers.selectors import customer_list
    from orders.models import Order

    def form_search(text: str) -> Callable[[], object]:
        form = CustomerFilterForm({"q": text})
        assert form.is_valid(), form.errors
        filters = form.filters()
        return lambda: customer_list(filters, with_total=False)

    with transaction.atomic():
        with connection.cursor() as db:
            db.execute("SET TRANSACTION READ ONLY")
        highest = Customer.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        candidates = Customer.objects.filter(pk__gte=highest // 3, orders_count__gt=0, merged_into__isnull=True)
        someone = candidates.order_by("pk").first()
        assert someone is not None, "no customers: seed the base first"
        first_name, surname = someone.name.split()[:2]
        phone = CustomerPhone.objects.filter(customer=someone).values_list("number", flat=True).first() or ""
        typed_phone = f"8 ({phone[2:5]}) {phone[5:8]}-{phone[8:10]}-{phone[10:]}"
        email = CustomerEmail.objects.filter(customer__orders_count__gt=0).values_list("address", flat=True).first()
        order_number = Order.objects.filter(customer=someone).values_list("external_id", flat=True).first()
        searches = {
            f"name, one word (“{surname}”)": surname,
            f"name, one word in lower case (“{surname.lower()}”)": surname.lower(),
            f"name, surname first (“{surname} {first_name}”)": f"{surname} {first_name}",
            f"phone, as typed (“{typed_phone}”)": typed_phone,
            f"phone, last four digits (“{phone[-4:]}”)": phone[-4:],
            "email": email or "",
            f"order number (“#{order_number}”)": f"#{order_number}",
        }
        print(f"customers: {Customer.objects.count():,}; each search: {args.repeat} EXPLAIN ANALYZE runs")
        for label, text in searches.items():
            action = form_search(text)
            found = len(action().rows)  # type: ignore[attr-defined]
            queries = [(sql, params) for sql, params in sent_queries(action) if 'FROM "customers_customer"' in sql]
            sql, params = queries[0]
            lines = [explain(sql, params) for _ in range(args.repeat)]
            times = [float(line.split(", ")[1].removesuffix(" ms")) for line in lines]
            print(
                f"{label}: {found} found; {', '.join(f'{t:.2f}' for t in times)} ms "
                f"(median {statistics.median(times):.2f}); {lines[-1]}"
            )
        transaction.set_rollback(True)


if __name__ == "__main__":
    main()
