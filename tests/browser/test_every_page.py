"""Every page of the product, as each role, in Russian and English, at a desktop's and a phone's width: no server
error, nothing wider than the window, and no English left on a Russian page.

The pages are read from the URL conf, so a page added later is visited without anyone remembering to list it: a
page whose address takes parameters must get a real object in ``page_arguments`` (the test fails naming it until it
does). Addresses that answer a GET with 405 (actions) or with something other than HTML (JSON, CSV) are not pages;
an address a role may not open (403, or the sign-in page) is skipped for that role. The shop is the demo's own
(``seed_demo``, a scoring run, ``seed_feedback``), so the pages show the figures and charts a newcomer sees.

One browser, one page per role and language, reused for every address; the width is changed on the loaded page
rather than loading it twice. Every page is photographed at every width on every run, failing or not, into
``var/screenshots/every-page/<role>-<language>/<width>/<page>.png`` (emptied at the start of a run, so the folder
is always one run's pictures): a reviewer can look through the whole product without starting it.
"""

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils.translation import get_language_info
from playwright.sync_api import Browser, Page
from pytest_django.live_server_helper import LiveServer

from customers.models import Call, CallState, Customer
from customers.unverified import unverified_contacts_keep
from feedback.links import token_sign
from feedback.models import FollowUp, Invitation
from loyalty.campaigns.models import CallTask, Campaign, Preset
from loyalty.services import promo_batch_generate
from messaging.links import unsubscribe_token
from messaging.models import Message
from orders.models import ImportJob, ImportKind, ImportState, Order, WebhookSource
from scoring.models import Backtest, ScoringRun
from scoring.services import scoring_full_run
from shop.roles import Role
from shop.services import token_issue
from tests.factories import LoyaltyRuleFactory, NoteFactory, TagFactory, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (1280, 390)
LANGUAGES = ("ru", "en")
ROLES = (Role.OWNER, Role.MANAGER, Role.OPERATOR)
# Not the product's pages: Django's admin (its own look and catalogue) and the API with its documentation
# (JSON and the vendored Swagger UI).
OUTSIDE = ("admin/", "api/")
# Addresses whose GET is an action rather than a page: signing out, and a campaign's tracked link (a redirect to the
# shop, counted as a click).
ACTIONS = frozenset({"logout", "campaign_click"})
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots" / "every-page"
CATALOGUE = Path(settings.BASE_DIR) / "locale" / "ru" / "LC_MESSAGES" / "django.po"
PLACEHOLDER = re.compile(r"%(\(\w+\))?[sd]|\{\w*\}")

OVERFLOW = "() => document.documentElement.scrollWidth > document.documentElement.clientWidth + 1"
SETTLED = (
    """() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(done, 50))))"""
)
# The outermost elements that stick out on the right, to name in the failure: where to look.
STICKING_OUT = """() => {
  const limit = document.documentElement.clientWidth + 1;
  const out = [];
  for (const element of document.body.querySelectorAll('*')) {
    if (element.getBoundingClientRect().right <= limit) continue;
    if (element.parentElement && element.parentElement.getBoundingClientRect().right > limit) continue;
    let clipped = false;
    for (let box = element.parentElement; box && box !== document.body; box = box.parentElement) {
      if (getComputedStyle(box).overflowX !== 'visible') { clipped = true; break; }
    }
    if (clipped) continue;
    out.push(element.tagName.toLowerCase() + (element.className && typeof element.className === 'string'
      ? '.' + element.className.trim().split(/\\s+/).join('.') : ''));
    if (out.length === 3) break;
  }
  return out;
}"""
# The visible text of the page, node by node; menu entries and the options of visible selects count although a
# closed menu hides them. Text marked with another language (the language selector's "English") is left out.
VISIBLE_TEXT = """() => {
  const texts = [];
  const keep = (element, text) => {
    if (element.closest('script, style, template, [lang]:not([lang="ru"])')) return;
    const clean = text.replace(/\\s+/g, ' ').trim();
    if (clean) texts.push(clean);
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const element = node.parentElement;
    if (element && element.checkVisibility()) keep(element, node.textContent);
  }
  for (const element of document.querySelectorAll('.dropdown-item, select option')) {
    const select = element.closest('select');
    if (!select || select.checkVisibility()) keep(element, element.textContent);
  }
  return texts;
}"""


def translated_msgids() -> frozenset[str]:
    """The catalogue's single-form entries translated to something else: their English must not show on a Russian
    page. Entries with placeholders are left out (the page shows them filled in)."""
    entries: dict[str, str] = {}
    msgid = msgstr = None
    current = ""
    plural = fuzzy = False

    def finish() -> None:
        if msgid and msgstr and msgid != msgstr and not plural and not fuzzy and not PLACEHOLDER.search(msgid):
            entries[msgid] = msgstr

    for line in [*CATALOGUE.read_text(encoding="utf-8").splitlines(), ""]:
        if line.startswith('"') and current:
            value = line[1:-1].encode().decode("unicode_escape").encode("latin-1").decode("utf-8")
            if current == "msgid":
                msgid = (msgid or "") + value
            elif current == "msgstr":
                msgstr = (msgstr or "") + value
            continue
        if not line.strip():
            finish()
            msgid = msgstr = None
            current, plural, fuzzy = "", False, False
        elif line.startswith("#,") and "fuzzy" in line:
            fuzzy = True
        elif line.startswith("msgid_plural"):
            plural, current = True, ""
        elif line.startswith("msgid "):
            msgid, current = _unquote(line[6:]), "msgid"
        elif line.startswith("msgstr "):
            msgstr, current = _unquote(line[7:]), "msgstr"
        elif line.startswith("msgstr["):
            plural, current = True, ""
        elif line.startswith("msgctxt"):
            current = ""
    # A language's own name ("English" in the language selector) is how a reader finds their language, not a
    # string left untranslated.
    own_names = {get_language_info(code)["name_local"] for code, _name in settings.LANGUAGES}
    return frozenset(" ".join(text.split()) for text in entries) - own_names


def _unquote(quoted: str) -> str:
    return quoted.strip()[1:-1].encode().decode("unicode_escape").encode("latin-1").decode("utf-8")


@dataclass(frozen=True)
class Address:
    name: str
    route: str
    has_arguments: bool


def addresses(patterns: list[Any] | None = None, prefix: str = "", namespace: str = "") -> Iterator[Address]:
    """Every named address of the URL conf, with its namespace."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = ":".join(part for part in (namespace, pattern.namespace or "") if part)
            yield from addresses(pattern.url_patterns, route, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            yield Address(name, route, bool(pattern.pattern.converters))


def the_demo_shop() -> dict[str, dict[str, Any]]:
    """The demo's shop with one object of every kind a page shows, and the arguments of every address that takes
    some, by the address's name."""
    call_command("seed_demo", customers=120, seed=7, stdout=StringIO())
    scoring_full_run(run_id=ScoringRun.objects.create().pk)
    call_command("seed_feedback", stdout=StringIO())
    owner = make_user(Role.OWNER, username="every-page-owner")
    call_command("seed_campaigns", seed=7, stdout=StringIO())
    win_back = Campaign.objects.get(preset=Preset.WIN_BACK)
    call_task = CallTask.objects.order_by("pk").first()
    customer = Customer.objects.filter(orders_count__gt=1).order_by("pk").first()
    assert customer is not None
    phone, email = customer.phones.first(), customer.emails.first()
    note, tag = NoteFactory.create(customer=customer), TagFactory.create()
    customer.tags.add(tag)
    # The card with a contact a platform sent unreadable: its panel and fix form are on every-page duty too.
    unverified_contacts_keep(entries=[(customer.pk, "shop", [("phone", "555-555-SHIP", "Not a phone number.")])])
    unverified = customer.unverified_contacts.get()
    call = Call.objects.create(customer=customer, phone=phone.number if phone else "", state=CallState.MISSED)
    token = token_issue(name="Сайт", scopes=["import"], created_by=owner).token
    source = WebhookSource.objects.create(slug="shop", name="Магазин", secret="s" * 40)
    job = ImportJob.objects.create(
        kind=ImportKind.ORDERS,
        file="imports/orders.csv",
        original_name="orders.csv",
        encoding="utf-8",
        delimiter=";",
        state=ImportState.DONE,
        total_rows=10,
        processed_rows=10,
        created_count=9,
        skipped_rows=1,
        created_by=owner,
    )
    backtest = Backtest.objects.create(cutoff=date.today() - timedelta(days=180), state=Backtest.State.PENDING)
    rule = LoyaltyRuleFactory.create()
    promo_rule = LoyaltyRuleFactory.create(kind="promo_batch", params={"value_kind": "percent", "value": "15"})
    batch = promo_batch_generate(user=owner, rule=promo_rule, name="Весна", count=3)
    follow_up = FollowUp.objects.order_by("pk").first()
    invitation = Invitation.objects.filter(response__isnull=True).order_by("pk").first()
    message = Message.objects.order_by("pk").first()
    assert follow_up is not None and invitation is not None and message is not None
    run = ScoringRun.objects.latest("pk")
    order = Order.objects.filter(customer=customer).order_by("pk").first()
    assert order is not None
    card = {"pk": customer.pk}
    return {
        "shop:user_edit": {"pk": owner.pk},
        "shop:user_unlock": {"pk": owner.pk},
        "shop:user_second_factor_reset": {"pk": owner.pk},
        "shop:token_revoke": {"pk": token.pk},
        "shop:token_rate": {"pk": token.pk},
        "call:called_back": {"pk": call.pk},
        "demo:call_advance": {"pk": call.pk},
        "webhooks:rotate": {"pk": source.pk},
        "webhooks:toggle": {"pk": source.pk},
        "imports:detail": {"pk": job.pk},
        "imports:progress": {"pk": job.pk},
        "imports:errors": {"pk": job.pk},
        "customers:edit": card,
        "customers:phone_add": card,
        "customers:phone_remove": {**card, "phone_id": phone.pk if phone else 0},
        "customers:email_add": card,
        "customers:email_remove": {**card, "email_id": email.pk if email else 0},
        "customers:tag_add": card,
        "customers:tag_remove": {**card, "tag_id": tag.pk},
        "customers:consent": card,
        "customers:unverified_fix": {**card, "contact_id": unverified.pk},
        "customers:unverified_discard": {**card, "contact_id": unverified.pk},
        "customers:note_add": card,
        "customers:note_edit": {**card, "note_id": note.pk},
        "customer_card": card,
        "analytics:warning_follow_up": {"customer_id": customer.pk},
        "analytics:warning_win_back": {"customer_id": customer.pk},
        "customer_merge": card,
        "customer_personal_data": card,
        "customer_erase": card,
        "orders:detail": {"pk": order.pk},
        "feedback:survey": {"signed": token_sign(invitation)},
        "feedback:unsubscribe": {"signed": token_sign(invitation)},
        "feedback:follow_up": {"pk": follow_up.pk},
        "messaging:unsubscribe": {"token": unsubscribe_token(message.pk)},
        "scoring:run_status": {"pk": run.pk},
        "scoring:backtest_status": {"pk": backtest.pk},
        "loyalty:rule": {"pk": rule.pk},
        "loyalty:rule_edit": {"pk": rule.pk},
        "loyalty:batch_export": {"pk": batch.pk},
        "loyalty:batch_deactivate": {"pk": batch.pk},
        "loyalty:credit_adjust": card,
        "loyalty:customer_quote": card,
        "loyalty:campaign": {"pk": win_back.pk},
        "loyalty:campaign_edit": {"pk": win_back.pk},
        "loyalty:campaign_switch": {"pk": win_back.pk},
        "loyalty:campaign_preset": {"preset": Preset.WIN_BACK},
        "loyalty:call_done": {"pk": call_task.pk if call_task else 0},
    }


def page_urls(arguments: dict[str, dict[str, Any]]) -> list[tuple[str, str]]:
    """(name, path) of every address to visit; the unsubscribe link last, since it changes the customer."""
    found = [
        address for address in addresses() if not address.route.startswith(OUTSIDE) and address.name not in ACTIONS
    ]
    missing = sorted(address.name for address in found if address.has_arguments and address.name not in arguments)
    assert not missing, f"Give these addresses a real object in the_demo_shop(): {missing}"
    urls = [(address.name, reverse(address.name, kwargs=arguments.get(address.name))) for address in found]
    return sorted(urls, key=lambda item: item[0] == "feedback:unsubscribe")


POLICY = "Content Security Policy"


def _note_refusal(sink: list[str], message: Any) -> None:
    if POLICY in message.text:
        sink.append(message.text)


def _note_script_error(sink: list[str], error: Any) -> None:
    sink.append(f"script error: {error}")


def open_as(browser: Browser, live_server: LiveServer, client: Client, language: str) -> Page:
    """A page signed in with the client's session."""
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    context = browser.new_context(
        base_url=live_server.url, locale=f"{language}-RU", viewport={"width": WIDTHS[0], "height": 800}
    )
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}])
    context.set_default_timeout(15_000)
    return context.new_page()


def shot_path(role: str, language: str, width: int, name: str, path: str) -> Path:
    """The page's picture: the address's name, and its path when the name is visited with other arguments too."""
    slug = re.sub(r"[^\w.-]+", "_", f"{name} {path}").strip("_")
    return SCREENSHOTS / f"{role}-{language}".lower() / str(width) / f"{slug}.png"


def problems_of(page: Page, language: str, english: frozenset[str], shots: dict[int, Path]) -> list[str]:
    """What is wrong with the page just loaded, at each width; its picture at each width goes to ``shots``."""
    found = []
    if language == "ru":
        untranslated = sorted({text for text in page.evaluate(VISIBLE_TEXT) if text in english})
        if untranslated:
            found.append(f"English on the Russian page: {untranslated}")
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        # Charts follow the window's size on the next frames (a ResizeObserver), as they would for a person.
        page.evaluate(SETTLED)
        shots[width].parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shots[width]), full_page=True, animations="disabled")
        if page.evaluate(OVERFLOW):
            wide = page.evaluate("() => document.documentElement.scrollWidth")
            found.append(f"{wide}px wide at {width}px ({', '.join(page.evaluate(STICKING_OUT))})")
    page.set_viewport_size({"width": WIDTHS[0], "height": 800})
    return found


def probe(client: Client, path: str) -> int | None:
    """The status of ``path`` for the client's user; ``None`` when it is not an HTML page this role may open (an
    action answering 405, JSON or CSV, a refusal, the sign-in page). Asked in-process first: Chromium cannot
    show a 405 with no body, and a download is not a page."""
    response = client.get(path)
    if response.status_code in {403, 405}:
        return None
    if response.status_code == 302 and response["Location"].startswith(reverse("login")):
        return None
    if response.status_code < 500 and "text/html" not in response.get("Content-Type", ""):
        return None
    return response.status_code


def test_every_page_opens_fits_and_speaks_the_readers_language(
    browser: Browser, live_server: LiveServer, settings: Any
) -> None:
    settings.RETAIN_DEMO = True
    urls = page_urls(the_demo_shop())
    english = translated_msgids()
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    failures: list[str] = []
    taken: set[Path] = set()
    visited = 0
    for role in ROLES:
        for language in LANGUAGES:
            user = make_user(role, language=language)
            client = Client(raise_request_exception=False)
            client.force_login(user)
            page = open_as(browser, live_server, client, language)
            # What the Content-Security-Policy refused (an inline script or style without the nonce, a foreign
            # host) and scripts that failed: the page may look whole and still have lost its chart or its button.
            refused: list[str] = []
            page.on("console", partial(_note_refusal, refused))
            page.on("pageerror", partial(_note_script_error, refused))
            for name, path in urls:
                status = probe(client, path)
                if status is None:
                    continue
                visited += 1
                if status >= 500:
                    failures.append(f"{role} {language} {name} {path}: answered {status}")
                    continue
                page.goto(path, wait_until="load")
                shots = {width: shot_path(role, language, width, name, path) for width in WIDTHS}
                taken.update(shots.values())
                problems = problems_of(page, language, english, shots) + sorted(set(refused))
                refused.clear()
                if problems:
                    pictures = ", ".join(str(shot.relative_to(settings.BASE_DIR)) for shot in shots.values())
                    failures.append(f"{role} {language} {name} {path}: {'; '.join(problems)} (see {pictures})")
            page.context.close()
    assert visited > 60, f"only {visited} pages were visited: the sign-in or the data set-up is broken"
    # A picture of every page visited, at every width: the folder is the whole product as each reader sees it.
    assert len(taken) == visited * len(WIDTHS)
    assert {shot for shot in SCREENSHOTS.rglob("*.png")} == taken
    assert not failures, "\n".join(failures)
