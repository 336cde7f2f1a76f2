"""Signing in with a second factor: owners always confirm with a code from an authenticator app (TOTP) or a backup
code, managers when the owner switches it on; a password alone opens nothing; the owner resets a lost phone."""

import re
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from pytest_django.fixtures import Settings

from shop.models import BackupCode, ShopSettings, User
from shop.roles import Role
from shop.twofactor import BACKUP_CODE_COUNT, backup_codes_issue
from tests.factories import TEST_PASSWORD, make_manager, make_owner, make_user, totp_code
from tests.shop.test_shop_settings import settings_form

VERIFY = reverse("second_factor_verify")
SETUP = reverse("second_factor_setup")
CUSTOMERS = reverse("customers:list")


def password_step(user: User) -> Client:
    """A browser that typed the right password on the sign-in page, and nothing more."""
    client = Client()
    response = client.post(reverse("login"), {"username": user.username, "password": TEST_PASSWORD})
    assert response.status_code == 302
    return client


def enrolled(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def later(seconds: float) -> "time_machine.travel":
    """After a wrong code django-otp makes the next try wait (1 s, then 2 s, 4 s…): the clock moves, nobody sleeps."""
    return time_machine.travel(timezone.now() + timedelta(seconds=seconds), tick=False)


def test_an_enrolled_owner_with_only_the_password_reaches_nothing_but_the_code_page(db: None) -> None:
    owner = make_owner()
    enrolled(owner)
    client = password_step(owner)

    for path in (reverse("home"), CUSTOMERS, reverse("shop:users"), reverse("shop:settings")):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith(f"{VERIFY}?next="), path
    assert client.get("/api/v1/customers/").status_code == 403


def test_an_owner_signs_in_with_the_code_from_the_app(db: None) -> None:
    owner = make_owner()
    device = enrolled(owner)
    client = password_step(owner)

    response = client.post(VERIFY, {"code": totp_code(device), "next": CUSTOMERS})

    assert response.status_code == 302
    assert response["Location"] == CUSTOMERS
    assert client.get(CUSTOMERS).status_code == 200


def test_a_wrong_code_is_refused_and_the_right_one_then_passes(db: None) -> None:
    owner = make_owner(language="en")
    device = enrolled(owner)
    client = password_step(owner)
    wrong = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"

    response = client.post(VERIFY, {"code": wrong})

    assert response.status_code == 200
    assert "This code is wrong or was already used" in response.content.decode()
    assert client.get(CUSTOMERS).status_code == 302
    with later(2):
        assert client.post(VERIFY, {"code": totp_code(device)}).status_code == 302
        assert client.get(CUSTOMERS).status_code == 200


def test_a_code_once_used_does_not_sign_in_again(db: None) -> None:
    owner = make_owner()
    device = enrolled(owner)
    code = totp_code(device)
    assert password_step(owner).post(VERIFY, {"code": code}).status_code == 302

    second = password_step(owner)
    response = second.post(VERIFY, {"code": code})

    assert response.status_code == 200
    assert second.get(CUSTOMERS).status_code == 302


def test_a_backup_code_signs_in_once(db: None) -> None:
    owner = make_owner()
    enrolled(owner)
    codes = backup_codes_issue(user=owner)

    first = password_step(owner)
    assert first.post(VERIFY, {"code": codes[0].lower().replace("-", " ")}).status_code == 302
    assert first.get(CUSTOMERS).status_code == 200

    second = password_step(owner)
    assert second.post(VERIFY, {"code": codes[0]}).status_code == 200
    assert second.get(CUSTOMERS).status_code == 302
    with later(2):
        assert second.post(VERIFY, {"code": codes[1]}).status_code == 302


def test_backup_codes_are_kept_only_as_keyed_hashes(db: None) -> None:
    owner = make_owner()
    codes = backup_codes_issue(user=owner)

    stored = list(BackupCode.objects.filter(device__user=owner).values_list("digest", flat=True))

    assert len(stored) == len(codes) == BACKUP_CODE_COUNT
    for code in codes:
        assert all(code not in digest and code.replace("-", "") not in digest for digest in stored)


def test_new_backup_codes_replace_the_old_sheet(db: None) -> None:
    owner = make_owner()
    enrolled(owner)
    old = backup_codes_issue(user=owner)
    client = Client()
    client.force_login(owner)

    response = client.post(reverse("backup_codes"))

    new = re.findall(r"[A-Z2-9]{5}-[A-Z2-9]{5}", response.content.decode())
    assert len(set(new)) == BACKUP_CODE_COUNT
    assert password_step(owner).post(VERIFY, {"code": old[0]}).status_code == 200
    with later(2):
        assert password_step(owner).post(VERIFY, {"code": new[0]}).status_code == 302


def test_an_owner_without_an_authenticator_is_sent_to_enrol_and_can_do_nothing_else(db: None) -> None:
    owner = make_owner()
    client = password_step(owner)

    for path in (reverse("home"), CUSTOMERS, VERIFY):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith(SETUP), path

    page = client.get(SETUP)
    assert page.status_code == 200
    assert "<svg" in page.content.decode()
    assert 'data-testid="totp-secret"' in page.content.decode()


def test_enrolment_takes_the_apps_code_and_shows_the_backup_codes_once(db: None) -> None:
    owner = make_owner()
    client = password_step(owner)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=owner, confirmed=False)

    refused = client.post(SETUP, {"code": f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"})
    assert refused.status_code == 200
    assert not TOTPDevice.objects.filter(user=owner, confirmed=True).exists()

    with later(2):
        response = client.post(SETUP, {"code": totp_code(device), "next": CUSTOMERS})
        assert response.status_code == 200
        codes = re.findall(r"[A-Z2-9]{5}-[A-Z2-9]{5}", response.content.decode())
        assert len(set(codes)) == BACKUP_CODE_COUNT
        assert TOTPDevice.objects.filter(user=owner, confirmed=True).count() == 1
        assert client.get(CUSTOMERS).status_code == 200
        assert "-".join(codes[0].split("-")) not in client.get(SETUP).content.decode()


def test_the_enrolment_page_keeps_its_secret_when_reloaded(db: None) -> None:
    owner = make_owner()
    client = password_step(owner)

    first = re.search(r'data-testid="totp-secret">([^<]+)<', client.get(SETUP).content.decode())
    second = re.search(r'data-testid="totp-secret">([^<]+)<', client.get(SETUP).content.decode())

    assert first is not None and second is not None
    assert first.group(1) == second.group(1)


def test_a_password_alone_cannot_replace_an_enrolled_authenticator(db: None) -> None:
    owner = make_owner()
    enrolled(owner)
    client = password_step(owner)

    response = client.get(SETUP)

    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY)
    assert not TOTPDevice.objects.filter(user=owner, confirmed=False).exists()


def test_managers_sign_in_with_the_password_alone_while_the_switch_is_off(db: None) -> None:
    manager = make_manager()

    assert password_step(manager).get(CUSTOMERS).status_code == 200


def test_managers_must_enrol_once_the_owner_switches_it_on(db: None) -> None:
    shop = ShopSettings.load()
    shop.managers_require_two_factor = True
    shop.save()
    manager = make_manager()

    response = password_step(manager).get(CUSTOMERS)

    assert response.status_code == 302
    assert response["Location"].startswith(SETUP)


def test_operators_are_not_asked_for_a_code_even_with_the_managers_switch_on(db: None) -> None:
    shop = ShopSettings.load()
    shop.managers_require_two_factor = True
    shop.save()
    operator = make_user(Role.OPERATOR)

    assert password_step(operator).get(reverse("call:console")).status_code == 200


def test_a_manager_who_enrolled_by_choice_confirms_with_the_code(db: None) -> None:
    manager = make_manager()
    device = enrolled(manager)
    client = password_step(manager)

    assert client.get(CUSTOMERS).status_code == 302
    assert client.post(VERIFY, {"code": totp_code(device)}).status_code == 302
    assert client.get(CUSTOMERS).status_code == 200


def test_the_owner_switches_the_managers_rule_on_the_settings_page(owner: User) -> None:
    client = Client()
    client.force_login(owner)
    form = settings_form(managers_require_two_factor="on")

    assert client.post(reverse("shop:settings"), form).status_code == 302
    assert ShopSettings.load().managers_require_two_factor is True


def test_the_owner_resets_a_lost_authenticator_from_the_users_page(owner: User) -> None:
    manager = make_manager()
    enrolled(manager)
    backup_codes_issue(user=manager)
    client = Client()
    client.force_login(owner)
    assert 'data-testid="second-factor-' in client.get(reverse("shop:users")).content.decode()

    response = client.post(reverse("shop:user_second_factor_reset", args=[manager.pk]))

    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=manager).exists()
    assert not BackupCode.objects.filter(device__user=manager).exists()


def test_a_session_verified_with_a_reset_authenticator_must_enrol_again(db: None) -> None:
    owner, other_owner = make_owner(), make_owner()
    client = Client()
    client.force_login(owner)
    assert client.get(CUSTOMERS).status_code == 200
    admin = Client()
    admin.force_login(other_owner)

    admin.post(reverse("shop:user_second_factor_reset", args=[owner.pk]))

    response = client.get(CUSTOMERS)
    assert response.status_code == 302
    assert response["Location"].startswith(SETUP)


@pytest.mark.parametrize("role", [Role.MANAGER, Role.OPERATOR])
def test_only_the_owner_may_reset_an_authenticator(role: str, owner: User) -> None:
    device = enrolled(owner)
    client = Client()
    client.force_login(make_user(role))

    response = client.post(reverse("shop:user_second_factor_reset", args=[owner.pk]))

    assert response.status_code == 403
    assert TOTPDevice.objects.filter(pk=device.pk).exists()


def test_after_the_code_the_page_asked_for_opens_only_if_it_is_ours(db: None) -> None:
    owner = make_owner()
    device = enrolled(owner)

    response = password_step(owner).post(VERIFY, {"code": totp_code(device), "next": "https://evil.example/"})

    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_the_demo_shows_the_demo_owners_code_and_nobody_elses(db: None, settings: Settings) -> None:
    settings.RETAIN_DEMO = True
    call_command("create_demo_users", stdout=StringIO())
    demo_owner = User.objects.get(username="owner")
    client = Client()
    client.post(reverse("login"), {"username": "owner", "password": "owner-demo-2026"})

    page = client.get(VERIFY).content.decode()
    shown = re.search(r"<strong>(\d{6})</strong>", page)
    assert shown is not None
    assert client.post(VERIFY, {"code": shown.group(1)}).status_code == 302
    other = make_owner()
    enrolled(other)
    assert 'data-testid="demo-code"' not in password_step(other).get(VERIFY).content.decode()
    assert TOTPDevice.objects.filter(user=demo_owner, confirmed=True).count() == 1


def test_an_only_owner_who_lost_everything_is_reset_from_the_command_line(db: None) -> None:
    owner = make_owner()
    enrolled(owner)
    backup_codes_issue(user=owner)

    call_command("second_factor_reset", owner.username, stdout=StringIO())

    assert not TOTPDevice.objects.filter(user=owner).exists()
    assert not BackupCode.objects.filter(device__user=owner).exists()
    assert password_step(owner).get(CUSTOMERS)["Location"].startswith(SETUP)


def test_a_code_typed_with_the_apps_space_is_accepted(db: None) -> None:
    owner = make_owner()
    device = enrolled(owner)
    code = totp_code(device)

    response = password_step(owner).post(VERIFY, {"code": f" {code[:3]} {code[3:]} "})

    assert response.status_code == 302
