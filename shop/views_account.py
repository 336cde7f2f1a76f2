"""A staff member's own sign-in pages: the second step of signing in (a code), enrolling an authenticator app, and
backup codes. Every page here asks for a signed-in user; SecondFactorMiddleware lets a user who still owes the code
reach only these (and signing out)."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from shop import twofactor
from shop.forms import SecondFactorCodeForm
from shop.models import User


def _next_url(request: HttpRequest) -> str:
    """Where to go once verified: the page that sent the user here, if it is ours."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(settings.LOGIN_REDIRECT_URL)


def _with_next(name: str, request: HttpRequest) -> str:
    return f"{reverse(name)}?{urlencode({'next': _next_url(request)})}"


def _demo_code(device: TOTPDevice) -> str | None:
    """In the demo only, the code the demo owner's authenticator would show now (its secret is printed anyway)."""
    if not settings.RETAIN_DEMO or device.key != twofactor.DEMO_TOTP_KEY:
        return None
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


@never_cache
@login_required
def second_factor_verify(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    if not twofactor.second_factor_pending(request):
        return redirect(_next_url(request))
    device = twofactor.totp_device_of(user)
    if device is None:
        return redirect(_with_next("second_factor_setup", request))
    form = SecondFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if twofactor.second_factor_verify(request=request, user=user, code=form.cleaned_data["code"]):
            return redirect(_next_url(request))
        form.add_error(
            "code",
            _(
                "This code is wrong or was already used. After each wrong code the next try has to wait a little longer."
            ),
        )
    context = {"form": form, "next": _next_url(request), "pending": True, "demo_code": _demo_code(device)}
    return render(request, "registration/second_factor_verify.html", context)


@never_cache  # the page carries the secret of the authenticator being enrolled
@login_required
def second_factor_setup(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    pending = twofactor.second_factor_pending(request)
    if twofactor.has_confirmed_device(user):
        if pending:
            # A password alone must never replace the enrolled app with another one.
            return redirect(_with_next("second_factor_verify", request))
        return render(
            request,
            "registration/second_factor_status.html",
            {
                "codes_left": twofactor.backup_codes_left(user),
                "required": twofactor.second_factor_required_by_role(user),
            },
        )
    device = twofactor.enrolment_start(user=user)
    form = SecondFactorCodeForm(request.POST or None, backup_allowed=False)
    if request.method == "POST" and form.is_valid():
        codes = twofactor.enrolment_confirm(request=request, device=device, code=form.cleaned_data["code"])
        if codes is not None:
            return render(
                request, "registration/backup_codes.html", {"codes": codes, "next": _next_url(request), "new": True}
            )
        form.add_error(
            "code", _("This code does not match. Check the time on your phone and enter the code shown now.")
        )
    context = {
        "form": form,
        "pending": pending,
        "next": _next_url(request),
        # segno's own markup of a URI we built: no user-supplied text reaches the SVG.
        "qr_svg": mark_safe(twofactor.qr_svg(device.config_url)),  # noqa: S308
        "secret": twofactor.secret_for_manual_entry(device),
        "uri": device.config_url,
    }
    return render(request, "registration/second_factor_setup.html", context)


@never_cache  # the answer carries the new codes in clear
@require_POST
@login_required
def backup_codes_regenerate(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    if not twofactor.has_confirmed_device(user) or not twofactor.session_verified(user):
        return redirect("second_factor_setup")
    codes = twofactor.backup_codes_issue(user=user)
    return render(request, "registration/backup_codes.html", {"codes": codes, "next": reverse("second_factor_setup")})
