"""The owner's rule pages: the list (managers read it too), the editor, and a rule's page with its preview and
history. Pages validate, call one service, render."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from customers.selectors import customer_for_user, survivor_of
from loyalty import selectors
from loyalty.engine.evaluate import Cart
from loyalty.errors import LoyaltyError
from loyalty.forms import PARAM_EXAMPLES, RuleForm
from loyalty.models import LoyaltyRule, RuleKind
from loyalty.preview import rule_preview
from loyalty.quoting import QuoteForm, quote_lines
from loyalty.results import rule_groups, rule_results
from loyalty.services import loyalty_quote, rule_create, rule_update
from shop.models import ShopSettings
from shop.permissions import capability_required, user_can
from shop.roles import Capability


def _signed_in(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Anonymous visitors go to the sign-in page; the capability check is the selector's (read or configure)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapped


@_signed_in
def rule_list(request: HttpRequest) -> HttpResponse:
    rules = selectors.rules_for_user(request.user)  # view_rules or configure, else 403
    return render(
        request,
        "loyalty/rule_list.html",
        {"rules": rules, "can_configure": user_can(request.user, Capability.CONFIGURE)},
    )


@_signed_in
def rule_detail(request: HttpRequest, pk: int) -> HttpResponse:
    rule = selectors.rule_for_user(request.user, pk)
    preview = rule_preview(rule)
    return render(
        request,
        "loyalty/rule_detail.html",
        {
            "rule": rule,
            "preview": preview,
            "segments": preview.segment_rows(),
            "tiers": preview.tier_rows(),
            "history": selectors.rule_history(rule.pk),
            "results": rule_results(rule),
            "groups": rule_groups(rule),
            "batches": selectors.promo_batches(rule_id=rule.pk) if rule.kind == RuleKind.PROMO_BATCH else None,
            "currency": ShopSettings.load().currency,
            "can_configure": user_can(request.user, Capability.CONFIGURE),
        },
    )


def _save(request: HttpRequest, form: RuleForm, rule: LoyaltyRule | None) -> LoyaltyRule | None:
    try:
        if rule is None:
            return rule_create(user=request.user, **form.changes())
        return rule_update(user=request.user, rule=rule, **form.changes())
    except ValidationError as error:
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    return None


@capability_required(Capability.CONFIGURE)
@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    rule = selectors.rule_for_user(request.user, pk) if pk is not None else None
    initial = {"kind": request.GET.get("kind")} if rule is None and request.GET.get("kind") in PARAM_EXAMPLES else {}
    form = RuleForm(request.POST or None, instance=rule, initial=initial)
    if request.method == "POST" and form.is_valid():
        saved = _save(request, form, rule)
        if saved is not None:
            messages.success(request, _("Rule “%(name)s” saved.") % {"name": saved.name})
            return redirect("loyalty:rule", pk=saved.pk)
    return render(request, "loyalty/rule_edit.html", {"form": form, "rule": rule, "kinds": RuleKind.choices})


@require_GET
@capability_required(Capability.QUOTE)
def customer_quote(request: HttpRequest, pk: int) -> HttpResponse:
    """The quote for one customer's cart, as a fragment the card and the caller's screen-pop show under their
    form. A GET because it changes nothing; the customer is reached through the one scoped accessor."""
    customer = survivor_of(customer_for_user(request.user, pk))
    form = QuoteForm(request.GET)
    context: dict[str, Any] = {"form": form, "currency": ShopSettings.load().currency}
    if form.is_valid():
        try:
            result = loyalty_quote(
                customer=customer, cart=Cart(total=form.cleaned_data["total"]), code=form.cleaned_data["code"]
            )
        except LoyaltyError as error:
            context["error"] = error.message
        else:
            context.update(quote=result.quote, lines=quote_lines(result), balance=result.balance)
    return render(request, "loyalty/_quote_result.html", context)
