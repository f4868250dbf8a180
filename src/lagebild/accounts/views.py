"""Pages for the second factor and for the user's own API tokens."""

from __future__ import annotations

import datetime as dt
from typing import Any

from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from lagebild.core.forms import LoginForm

from . import tokens, twofactor
from .forms import CodeForm, TokenCreateForm

PENDING_DEVICE = "lagebild_2fa_pending_device"


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return home_url(request.user)


# Where a role starts its day: the Bußgeldstelle works from its deadline worklist.
ROLE_HOMES = {"proceedings": "proceedings:worklist"}


def home_url(user: Any) -> str:
    """The page a user lands on after logging in without a ``next`` address."""
    return reverse(ROLE_HOMES.get(getattr(user, "role", ""), settings.LOGIN_REDIRECT_URL))


class LoginView(auth_views.LoginView):
    """Django's login with our form, landing each role on its start page."""

    template_name = "core/login.html"
    authentication_form = LoginForm

    def get_default_redirect_url(self) -> str:
        return home_url(self.request.user)


def _no_store(response: HttpResponse) -> HttpResponse:
    # Secrets and codes on this page must not stay in a browser's or proxy's cache.
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@login_required
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """First login: scan the QR code, confirm with a code, receive the recovery codes once."""
    user = request.user
    if user_has_device(user, confirmed=True):
        # Replacing a device needs the old factor first; a stolen password alone must not do it.
        return redirect("accounts:two-factor") if not user.is_verified() else redirect(_next_url(request))
    form = CodeForm(request.POST or None)
    pending = TOTPDevice.objects.filter(
        pk=request.session.get(PENDING_DEVICE, 0), user=user, confirmed=False
    ).first()
    if request.method == "POST" and pending is not None and form.is_valid():
        codes = twofactor.enrolment_confirm(user=user, device=pending, code=form.cleaned_data["code"])
        if codes is not None:
            request.session.pop(PENDING_DEVICE, None)
            otp_login(request, pending)
            context = {"codes": codes, "next": _next_url(request)}
            return _no_store(render(request, "accounts/recovery_codes.html", context))
        form.add_error("code", "Der Code stimmt nicht. Bitte nehmen Sie den aktuellen Code aus der App.")
    if request.method == "POST" and pending is None:
        messages.error(request, "Die Einrichtung ist abgelaufen. Bitte scannen Sie den neuen QR-Code.")
    # A wrong code shows the same secret again; every fresh visit makes a new one, so a
    # secret once shown is never shown again (and an abandoned one is gone).
    if request.method == "POST" and pending is not None:
        enrolment = twofactor.enrolment_show(pending)
    else:
        enrolment = twofactor.enrolment_start(user)
    request.session[PENDING_DEVICE] = enrolment.device.pk
    context = {"form": form, "enrolment": enrolment, "next": _next_url(request)}
    status = 400 if form.errors else 200
    return _no_store(render(request, "accounts/two_factor_setup.html", context, status=status))


@never_cache
@login_required
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.is_verified():
        return redirect(_next_url(request))
    if not user_has_device(user, confirmed=True):
        return redirect("accounts:two-factor-setup")
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        result = twofactor.verify(user, form.cleaned_data["code"])
        if result.device is not None:
            otp_login(request, result.device)
            if result.recovery_codes_left is not None:
                messages.warning(
                    request,
                    "Sie haben einen Wiederherstellungscode verwendet; "
                    f"{result.recovery_codes_left} sind übrig. "
                    "Bitte richten Sie bei Verlust des Telefons die App neu ein (Administration).",
                )
            return redirect(_next_url(request))
        status = 400
        if result.wait_seconds:
            form.add_error(
                "code", f"Zu viele falsche Codes. Bitte warten Sie {result.wait_seconds} Sekunden."
            )
            status = 429
        else:
            form.add_error("code", "Der Code stimmt nicht.")
    return render(
        request, "accounts/two_factor_verify.html", {"form": form, "next": _next_url(request)}, status=status
    )


@never_cache
@login_required
def account(request: HttpRequest) -> HttpResponse:
    """ "Mein Zugang": the state of the second factor, new recovery codes, the way to the tokens."""
    user = request.user
    totp = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    context = {
        "totp": totp,
        "recovery_left": twofactor.recovery_codes_left(user),
        "token_count": tokens.tokens_of(user).filter(revoked_at__isnull=True).count(),
    }
    return render(request, "accounts/account.html", context)


@never_cache
@require_POST
@login_required
def recovery_codes_renew(request: HttpRequest) -> HttpResponse:
    """New recovery codes (the old ones stop working), shown once; only with the second factor done."""
    user = request.user
    if not user.is_verified():
        return redirect("accounts:two-factor")
    codes = twofactor.recovery_codes_renew(user)
    context = {"codes": codes, "next": reverse("accounts:account"), "renewed": True}
    return _no_store(render(request, "accounts/recovery_codes.html", context))


def locked_out(request: HttpRequest, response: Any = None, credentials: Any = None) -> HttpResponse:
    """django-axes' answer while a username is locked from an address: the login page, in German."""
    cool_off = get_cool_off(request) or dt.timedelta(minutes=15)
    minutes = int(cool_off.total_seconds() // 60)
    context = {
        "form": LoginForm(request),
        "lockout_message": (
            "Zu viele fehlgeschlagene Anmeldeversuche. Die Anmeldung ist für "
            f"{minutes} Minuten gesperrt. Bitte versuchen Sie es später erneut "
            "oder wenden Sie sich an Ihre Administration."
        ),
    }
    return render(request, "core/login.html", context, status=429)


# --- API tokens ---------------------------------------------------------------------------------


@never_cache
@login_required
def token_list(request: HttpRequest) -> HttpResponse:
    """ "Meine API-Tokens": create (the key is shown on this answer only), list, revoke."""
    form = TokenCreateForm(request.POST or None)
    created = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                created = tokens.token_create(
                    user=request.user, name=form.cleaned_data["name"], days=form.cleaned_data["days"]
                )
            except ValidationError as exc:
                form.add_error(None, exc)
                status = 400
            else:
                form = TokenCreateForm()
        else:
            status = 400
    context = {
        "form": form,
        "created": created,
        "tokens": tokens.tokens_of(request.user),
    }
    return _no_store(render(request, "accounts/token_list.html", context, status=status))


@require_POST
@login_required
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    # Another user's token answers like one that does not exist.
    token = get_object_or_404(tokens.tokens_of(request.user), pk=pk)
    if tokens.token_revoke(token=token, actor=request.user):
        messages.success(request, f"Der Token „{token.name}“ ({token.prefix}…) ist widerrufen.")
    return redirect("accounts:tokens")
