"""Who sees the money reports, the spend entry (form and CSV file), and the spreadsheet-safe exports."""

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from analytics.models import AcquisitionCohort, MarketingSpend, Refresh
from analytics.services import SpendFileError, aggregates_refresh, spend_file_parse
from customers.models import Customer
from shop.roles import Role
from shop.schedules import schedules_sync
from tests.analytics.helpers import small_shop

pytestmark = pytest.mark.django_db
ClientFor = Callable[[str | None], Client]
REPORTS = ["analytics:channels", "analytics:cohorts", "analytics:segments", "analytics:warnings", "analytics:effect"]


@pytest.mark.parametrize("name", REPORTS)
@pytest.mark.parametrize("role", [Role.OWNER, Role.MANAGER])
def test_owners_and_managers_see_the_money_reports(client_for: ClientFor, role: str, name: str):
    small_shop()
    aggregates_refresh()
    assert client_for(role).get(reverse(name)).status_code == 200


@pytest.mark.parametrize("name", [*REPORTS, "analytics:spend"])
def test_operators_see_no_money_report(client_for: ClientFor, name: str):
    assert client_for(Role.OPERATOR).get(reverse(name)).status_code == 403


def test_the_spend_entry_is_for_the_owner_only(client_for: ClientFor):
    response = client_for(Role.MANAGER).post(
        reverse("analytics:spend"), {"action": "save", "channel": "email", "month": "2026-03", "amount": "100"}
    )
    assert response.status_code == 403
    assert not MarketingSpend.objects.exists()


def test_the_owner_enters_a_months_spend_and_a_second_entry_replaces_it(client_for: ClientFor):
    owner = client_for(Role.OWNER)
    for amount in ("1500.50", "1700.00"):
        response = owner.post(
            reverse("analytics:spend"), {"action": "save", "channel": "email", "month": "2026-03", "amount": amount}
        )
        assert response.status_code == 302
    spend = MarketingSpend.objects.get()
    assert (spend.channel, spend.month, spend.amount) == ("email", date(2026, 3, 1), Decimal("1700.00"))


def test_a_spreadsheets_csv_is_read_with_decimal_commas_and_channel_labels():
    content = "\ufeffМесяц;Канал;Сумма\n03.2026;Email;'12 345,50\n2026-04;search_ads;1 000\n".encode()
    lines = spend_file_parse(content)
    assert [(line.channel, line.month, line.amount) for line in lines] == [
        ("email", date(2026, 3, 1), Decimal("12345.50")),
        ("search_ads", date(2026, 4, 1), Decimal("1000")),
    ]


def test_a_spend_file_with_a_formula_or_a_negative_amount_is_refused_whole(client_for: ClientFor):
    content = b"month,channel,amount\n2026-03,email,100\n2026-04,email,=1+1\n2026-05,email,-5\n"
    with pytest.raises(SpendFileError) as refused:
        spend_file_parse(content)
    assert len(refused.value.errors) == 2
    response = client_for(Role.OWNER).post(
        reverse("analytics:spend"), {"action": "upload", "file": SimpleUploadedFile("spend.csv", content)}
    )
    assert response.status_code == 400
    assert not MarketingSpend.objects.exists()


def test_the_owner_uploads_a_spend_file(client_for: ClientFor):
    content = b"month,channel,amount\n2026-03,email,100\n2026-04,social,250.75\n"
    response = client_for(Role.OWNER).post(
        reverse("analytics:spend"), {"action": "upload", "file": SimpleUploadedFile("spend.csv", content)}
    )
    assert response.status_code == 302
    assert MarketingSpend.objects.count() == 2


def test_the_campaign_export_neutralises_a_formula_in_a_campaign_name(client_for: ClientFor):
    small_shop()
    Customer.objects.filter(name="Вера").update(utm_campaign='=HYPERLINK("http://evil")')
    aggregates_refresh()
    response = client_for(Role.MANAGER).get(reverse("analytics:channels"), {"export": "campaigns"})
    body = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "'=HYPERLINK" in body


def test_the_channel_page_says_what_still_active_means(client_for: ClientFor):
    small_shop()
    aggregates_refresh()
    response = client_for(Role.OWNER).get(reverse("analytics:channels"))
    assert "клиенты с оценкой, чей риск оттока ниже 50%" in response.content.decode()


def test_the_page_reads_the_aggregates_in_few_queries(client_for: ClientFor, django_assert_max_num_queries):
    small_shop()
    aggregates_refresh()
    client = client_for(Role.MANAGER)
    with django_assert_max_num_queries(13):
        assert client.get(reverse("analytics:channels")).status_code == 200
    # The channel figures are folded once per refresh: the next view reads them from the cache.
    with django_assert_max_num_queries(9):
        assert client.get(reverse("analytics:channels")).status_code == 200


def test_a_manager_refreshes_the_reports_on_demand(client_for: ClientFor, django_capture_on_commit_callbacks):
    small_shop()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(Role.MANAGER).post(reverse("analytics:refresh"), {"page": "cohorts"})
    assert response.status_code == 302
    assert response["Location"] == reverse("analytics:cohorts")
    assert Refresh.objects.get().state == Refresh.State.SUCCEEDED
    assert AcquisitionCohort.objects.count() == 2


def test_an_operator_cannot_refresh_the_reports(client_for: ClientFor):
    assert client_for(Role.OPERATOR).post(reverse("analytics:refresh")).status_code == 403
    assert not Refresh.objects.exists()


def test_the_nightly_refresh_is_a_registered_schedule():
    schedules_sync()
    assert PeriodicTask.objects.filter(task="analytics.refresh", enabled=True).exists()


def test_the_refresh_command_fills_the_aggregates_once_with_if_never():
    small_shop()
    call_command("analytics_refresh", "--if-never", stdout=StringIO())
    output = StringIO()
    call_command("analytics_refresh", "--if-never", stdout=output)
    assert Refresh.objects.count() == 1
    assert "nothing to do" in output.getvalue()
