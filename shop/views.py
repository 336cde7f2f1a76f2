from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from shop import lockout, selectors, services, twofactor
from shop.audit import audit_changes, audit_record
from shop.forms import (
    LanguageForm,
    ShopSettingsForm,
    TokenCreateForm,
    TokenRateForm,
    UserChangeForm,
    UserCreateForm,
)
from shop.http import same_site_path
from shop.models import AuditKind, ShopSettings, User
from shop.permissions import capability_required
from shop.roles import Capability

CONFIGURE = Capability.CONFIGURE


@capability_required(CONFIGURE)
def settings_edit(request: HttpRequest) -> HttpResponse:
    form = ShopSettingsForm(request.POST or None, instance=ShopSettings.load())
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            services.shop_settings_update(settings=form.save(commit=False))
            if form.changed_data:
                audit_changes(request, AuditKind.SETTINGS, form, target="shop")
        messages.success(request, _("Shop settings saved."))
        return redirect("shop:settings")
    return render(request, "shop/settings.html", {"form": form})


@capability_required(CONFIGURE)
def user_list(request: HttpRequest) -> HttpResponse:
    users = list(selectors.staff_list())
    locked = lockout.locked_usernames(member.username for member in users)
    return render(request, "shop/user_list.html", {"users": users, "locked": locked})


@capability_required(CONFIGURE)
def user_create(request: HttpRequest) -> HttpResponse:
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created = services.user_create(
                username=data["username"],
                password=data["password"],
                role=data["role"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                extension=data["extension"],
                language=data["language"],
            )
        except IntegrityError:
            form.add_error("username", _("This username is taken."))
        else:
            audit_record(
                kind=AuditKind.USER,
                user=request.user,
                request=request,
                detail={"action": "created", "username": created.username, "role": data["role"]},
            )
            messages.success(request, _("User %(name)s created.") % {"name": data["username"]})
            return redirect("shop:users")
    return render(request, "shop/user_form.html", {"form": form, "title": _("New user")})


@capability_required(CONFIGURE)
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    member = selectors.staff_member_for_owner(pk)
    form = UserChangeForm(request.POST or None, instance=member, initial={"role": member.role})
    if request.method == "POST" and form.is_valid():
        assert isinstance(request.user, User)
        fields = {name: form.cleaned_data[name] for name in UserChangeForm.Meta.fields}
        role_before = member.role
        try:
            services.user_update(user=member, acting_user=request.user, role=form.cleaned_data["role"], fields=fields)
        except services.SelfLockoutError:
            form.add_error(None, _("You cannot deactivate yourself or change your own role."))
        else:
            changed = {name: form.cleaned_data[name] for name in form.changed_data if name != "role"}
            if role_before != form.cleaned_data["role"]:
                changed["role"] = form.cleaned_data["role"]
            if changed:
                audit_record(
                    kind=AuditKind.USER,
                    user=request.user,
                    request=request,
                    detail={
                        "action": "changed",
                        "username": member.username,
                        "changes": changed,
                        "model": UserChangeForm.Meta.model._meta.label_lower,
                    },
                )
            messages.success(request, _("User %(name)s saved.") % {"name": member.username})
            return redirect("shop:users")
    return render(request, "shop/user_form.html", {"form": form, "title": member.username, "member": member})


@require_POST
@capability_required(CONFIGURE)
def user_unlock(request: HttpRequest, pk: int) -> HttpResponse:
    member = selectors.staff_member_for_owner(pk)
    assert isinstance(request.user, User)
    lockout.user_unlock(user=member, acting_user=request.user)
    audit_record(
        kind=AuditKind.USER,
        user=request.user,
        request=request,
        detail={"action": "unlocked", "username": member.username},
    )
    messages.success(request, _("Sign-in of %(name)s is unlocked.") % {"name": member.username})
    return redirect("shop:users")


@require_POST
@capability_required(CONFIGURE)
def user_second_factor_reset(request: HttpRequest, pk: int) -> HttpResponse:
    member = selectors.staff_member_for_owner(pk)
    assert isinstance(request.user, User)
    twofactor.second_factor_reset(user=member, acting_user=request.user)
    audit_record(
        kind=AuditKind.USER,
        user=request.user,
        request=request,
        detail={"action": "second_factor_reset", "username": member.username},
    )
    messages.success(
        request,
        _("The authenticator and backup codes of %(name)s are removed; they set up a new one at their next sign-in.")
        % {"name": member.username},
    )
    return redirect("shop:users")


@never_cache  # the response to a creation carries the key in clear: no browser or proxy may keep a copy
@capability_required(CONFIGURE)
def token_list(request: HttpRequest) -> HttpResponse:
    form = TokenCreateForm(request.POST or None)
    issued = None
    if request.method == "POST" and form.is_valid():
        assert isinstance(request.user, User)
        issued = services.token_issue(
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            sources=form.cleaned_data["sources"],
            created_by=request.user,
            lookup_rate_per_second=form.cleaned_data["lookup_rate_per_second"],
        )
        audit_record(
            kind=AuditKind.TOKEN,
            user=request.user,
            request=request,
            detail={
                "action": "issued",
                "token": str(issued.token),
                "scopes": issued.token.scopes,
                "lookup_rate_per_second": issued.token.lookup_rate_per_second,
                "sources": issued.token.bound_sources,
            },
        )
        form = TokenCreateForm()
    return render(request, "shop/token_list.html", {"tokens": selectors.token_list(), "form": form, "issued": issued})


@require_POST
@capability_required(CONFIGURE)
def token_rate(request: HttpRequest, pk: int) -> HttpResponse:
    token = selectors.token_for_owner(pk)
    form = TokenRateForm(request.POST, instance=token)
    before = token.lookup_rate_per_second
    if not form.is_valid():
        messages.error(request, form.errors.as_text())
        return redirect("shop:tokens")
    rate = form.cleaned_data["lookup_rate_per_second"]
    services.token_set_rate(token=token, lookup_rate_per_second=rate)
    if rate != before:
        audit_record(
            kind=AuditKind.TOKEN,
            user=request.user,
            request=request,
            detail={
                "action": "rate",
                "token": str(token),
                "changes": {"lookup_rate_per_second": [before, rate]},
                "model": token._meta.label_lower,
            },
        )
    messages.success(
        request, _("Token “%(name)s” may now look up %(rate)s callers a second.") % {"name": token.name, "rate": rate}
    )
    return redirect("shop:tokens")


@require_POST
@capability_required(CONFIGURE)
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = selectors.token_for_owner(pk)
    if token.is_active:
        services.token_revoke(token=token)
        audit_record(
            kind=AuditKind.TOKEN, user=request.user, request=request, detail={"action": "revoked", "token": str(token)}
        )
    messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("shop:tokens")


@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """Switch the interface language: remembered on the account when signed in, in a cookie otherwise."""
    form = LanguageForm(request.POST)
    next_url = same_site_path(request, request.POST.get("next"), reverse("home"))
    response: HttpResponse = HttpResponseRedirect(next_url)
    if form.is_valid():
        language = form.cleaned_data["language"]
        if request.user.is_authenticated:
            request.user.language = language
            request.user.save(update_fields=["language"])
        translation.activate(language)
        response.set_cookie("django_language", language, max_age=365 * 24 * 3600, samesite="Lax")
    return response
