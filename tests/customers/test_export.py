"""The CSV export of the filtered customer list: who may download it, what Excel sees, and that it streams."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from customers import views
from customers.models import Channel
from tests.factories import CustomerFactory, CustomerPhoneFactory, TagFactory

EXPORT = reverse("customers:export")


def download(client, **params) -> str:
    response = client.get(EXPORT, params)
    assert response.status_code == 200
    assert response.streaming
    return b"".join(response.streaming_content).decode("utf-8")


def data_lines(text: str) -> list[str]:
    return text.lstrip("\ufeff").splitlines()[1:]


@pytest.mark.parametrize(("role", "status"), [("Owner", 200), ("Manager", 200), ("Operator", 403), ("norole", 403)])
def test_only_owners_and_managers_may_export(client_for, role, status):
    assert client_for(role).get(EXPORT).status_code == status


def test_anonymous_visitor_is_sent_to_sign_in_from_the_export(client_for):
    response = client_for(None).get(EXPORT)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_export_starts_with_a_bom_so_excel_reads_cyrillic(client_for):
    CustomerFactory.create(name="Анна")
    response = client_for("Manager").get(EXPORT)
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")
    assert "Анна" in body.decode("utf-8")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="customers-')


def test_export_separates_by_semicolon_with_decimal_commas_by_default(client_for):
    customer = CustomerFactory.create(name="Анна", total_spent=Decimal("1234.50"), orders_count=3)
    line = data_lines(download(client_for("Manager")))[0].split(";")
    assert line[0] == str(customer.pk)
    assert line[1] == "Анна"
    assert "1234,50" in line


def test_export_separates_by_comma_on_request(client_for):
    CustomerFactory.create(name="Анна", total_spent=Decimal("1234.50"))
    line = data_lines(download(client_for("Manager"), sep="comma"))[0].split(",")
    assert line[1] == "Анна"
    assert "1234.50" in line


@pytest.mark.parametrize("name", ['=HYPERLINK("http://evil.example","click")', "+1+2", "-2+3", "@SUM(A1)", "\tcmd"])
def test_export_neutralises_cells_that_a_spreadsheet_would_run(client_for, name):
    CustomerFactory.create(name=name)
    rows = list(csv.reader(io.StringIO(download(client_for("Manager"), sep="comma").lstrip("\ufeff"))))
    assert rows[1][1] == "'" + name


def test_export_neutralises_phones_which_start_with_a_plus(client_for):
    CustomerPhoneFactory.create(number="+79991234567")
    assert ";'+79991234567;" in download(client_for("Manager"))


def test_export_contains_only_the_filtered_customers(client_for):
    CustomerFactory.create(name="Соцсети", channel=Channel.SOCIAL)
    CustomerFactory.create(name="Маркетплейс", channel=Channel.MARKETPLACE)
    lines = data_lines(download(client_for("Manager"), channel=Channel.SOCIAL))
    assert len(lines) == 1
    assert "Соцсети" in lines[0]


def test_export_lists_tags_of_each_customer(client_for):
    customer = CustomerFactory.create()
    customer.tags.add(TagFactory.create(name="VIP"), TagFactory.create(name="опт"))
    assert "VIP, опт" in data_lines(download(client_for("Manager")))[0]


def test_export_walks_every_customer_once_across_batches(client_for, monkeypatch):
    monkeypatch.setattr(views, "EXPORT_BATCH", 3)
    expected = {CustomerFactory.create(total_spent=Decimal(index % 2)).pk for index in range(10)}
    lines = data_lines(download(client_for("Manager"), sort="total_spent"))
    exported = [int(line.split(";")[0]) for line in lines]
    assert sorted(exported) == sorted(expected)
    assert len(exported) == len(set(exported))


def test_export_reads_two_queries_per_batch_and_none_per_row(client_for, monkeypatch, django_assert_num_queries):
    monkeypatch.setattr(views, "EXPORT_BATCH", 3)
    for _index in range(9):
        CustomerFactory.create()
    client = client_for("Manager")
    response = client.get(EXPORT)
    # Customers and their tags for each of the 3 batches; the last batch is short, so no empty fourth read.
    with django_assert_num_queries(6):
        lines = data_lines(b"".join(response.streaming_content).decode("utf-8"))
    assert len(lines) == 9
