"""Log-in, two-factor authentication, and the administrators' users and tokens pages.

Thin: parse, check the policy, call a selector or a service, render.
"""

from base64 import b32encode
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import check_for_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from probity.accounts import policies, selectors, services
from probity.accounts.forms import (
    AssignmentGrantForm,
    SetPasswordForm,
    TokenCreateForm,
    TwoFactorCodeForm,
    UserCreateForm,
    UserEditForm,
)
from probity.accounts.models import Assignment
from probity.accounts.twofactor import requires_two_factor
from probity.audit.services import access_record
from probity.core.i18n import set_language_cookie

PAGE_SIZE = 50


# --- helpers ----------------------------------------------------------------------------


def _safe_next(request, default: str = "") -> str:
    """The ``next`` target when it stays on this site, else ``default`` (the home page)."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default or resolve_url(settings.LOGIN_REDIRECT_URL)


def _with_next(url_name: str, next_url: str) -> str:
    return f"{reverse(url_name)}?{urlencode({'next': next_url})}"


def _apply_errors(form, exc: ValidationError, default_field: str | None = None) -> None:
    """Put a service's ``ValidationError`` on the form's fields (or on the form itself)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else default_field, errors)
    else:
        form.add_error(default_field, exc.messages)


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


# --- log-in and log-out -----------------------------------------------------------------


@method_decorator(login_not_required, name="dispatch")
class LoginView(auth_views.LoginView):
    """Django's log-in page; django-axes counts the failures and locks the username out."""

    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["failure_limit"] = settings.AXES_FAILURE_LIMIT
        return context

    def form_valid(self, form):
        user = form.get_user()
        response = super().form_valid(form)
        services.login_record(user=user)
        language = user.language
        if language and language in dict(settings.LANGUAGES) and check_for_language(language):
            set_language_cookie(response, language)
        return response


@method_decorator(login_not_required, name="dispatch")
class LogoutView(auth_views.LogoutView):
    """Log-out by ``POST`` only (Django refuses ``GET``)."""

    def post(self, request, *args, **kwargs):
        user = request.user if request.user.is_authenticated else None
        response = super().post(request, *args, **kwargs)
        if user is not None:
            services.logout_record(user=user)
        return response


# --- two-factor authentication ----------------------------------------------------------


THROTTLED = gettext_lazy(
    "Too many wrong codes in a row: wait a few seconds, then type the newest code."
)


def _grouped(secret: str, size: int = 4) -> str:
    return " ".join(secret[i : i + size] for i in range(0, len(secret), size))


@never_cache
def two_factor_setup(request):
    """Enrol an authenticator app: scan the QR code (or type the key), then a code."""
    user = request.user
    next_url = _safe_next(request)
    if selectors.has_two_factor(user):
        if user.is_verified():
            messages.info(request, _("Two-factor authentication is already set up."))
            return redirect(next_url)
        return redirect(_with_next("accounts:2fa_verify", next_url))

    device = services.totp_device_start(user=user)
    form = TwoFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not device.verify_is_allowed()[0]:
            form.add_error("code", THROTTLED)
        elif services.two_factor_enrol(user=user, device=device, code=form.cleaned_data["code"]):
            otp_login(request, device)
            messages.success(
                request,
                _(
                    "Two-factor authentication is set up. From now on you will type a code "
                    "from your authenticator app after your password."
                ),
            )
            return redirect(next_url)
        else:
            form.add_error(
                "code",
                _(
                    "That code is not right. Check that the phone's clock is correct and type "
                    "the code the app shows now."
                ),
            )

    qr_svg = segno.make(device.config_url, error="m").svg_inline(scale=5, border=2)
    return render(
        request,
        "accounts/two_factor_setup.html",
        {
            "form": form,
            "next": next_url,
            "qr_svg": qr_svg,
            "secret": _grouped(b32encode(device.bin_key).decode()),
            "issuer": settings.OTP_TOTP_ISSUER,
            "required": requires_two_factor(user),
        },
    )


@never_cache
def two_factor_verify(request):
    """After the password: the code from the enrolled authenticator app."""
    user = request.user
    next_url = _safe_next(request)
    if not selectors.has_two_factor(user):
        return redirect(_with_next("accounts:2fa_setup", next_url))
    if user.is_verified():
        return redirect(next_url)

    form = TwoFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if services.two_factor_throttled(user):
            form.add_error("code", THROTTLED)
        else:
            device = services.two_factor_verify(user=user, code=form.cleaned_data["code"])
            if device is not None:
                otp_login(request, device)
                return redirect(next_url)
            form.add_error("code", _("That code is not right. Type the code the app shows now."))
    return render(request, "accounts/two_factor_verify.html", {"form": form, "next": next_url})


# --- users ------------------------------------------------------------------------------


def users(request):
    _require(policies.can_view_users(request.user))
    q = request.GET.get("q", "").strip()
    return render(
        request,
        "accounts/user_list.html",
        {
            "page": _page(request, selectors.users_for(request.user, q=q)),
            "q": q,
            "can_manage": policies.can_manage_users(request.user),
        },
    )


def user_create(request):
    _require(policies.can_manage_users(request.user))
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.user_create(
                actor=request.user,
                username=data["username"],
                password=data["password1"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                language=data["language"],
            )
        except ValidationError as exc:
            _apply_errors(form, exc, "password1")
        else:
            messages.success(
                request,
                _("User %(username)s created. Now give them a role over a unit.")
                % {"username": user.username},
            )
            return redirect("accounts:user_detail", username=user.username)
    return render(request, "accounts/user_create.html", {"form": form})


def _visible_user(request, username: str):
    _require(policies.can_view_users(request.user))
    target = selectors.user_get(request.user, username)
    if target is None:
        raise Http404(_("No such user within your jurisdiction."))
    return target


def _render_detail(request, target, *, grant_form=None, status: int = 200):
    actor = request.user
    current, past = selectors.assignments_of(target)
    can_grant = policies.can_grant_any(actor, target)
    if can_grant and grant_form is None:
        grant_form = AssignmentGrantForm(units=selectors.grantable_units(actor))
    return render(
        request,
        "accounts/user_detail.html",
        {
            "target": target,
            "current": [(a, policies.can_revoke(actor, a)) for a in current],
            "past": past,
            "has_two_factor": selectors.has_two_factor(target),
            "can_change": policies.can_change_user(actor, target),
            "can_deactivate": policies.can_deactivate_user(actor, target),
            "can_grant": can_grant,
            "grant_form": grant_form if can_grant else None,
            "can_create_token": policies.can_create_token_for(actor, target),
        },
        status=status,
    )


def user_detail(request, username):
    target = _visible_user(request, username)
    # A staff member's account (contact details, roles) is personal data: note who looked.
    access_record(
        user=request.user, object_type="accounts.user", object_id=target.pk, purpose="user page"
    )
    return _render_detail(request, target)


@require_POST
def assignment_grant(request, username):
    actor = request.user
    target = _visible_user(request, username)
    _require(policies.can_grant_any(actor, target))
    form = AssignmentGrantForm(request.POST, units=selectors.grantable_units(actor))
    if form.is_valid():
        unit = form.cleaned_data["unit"]
        _require(policies.can_grant(actor, target, unit))
        try:
            assignment = services.assignment_grant(
                actor=actor, user=target, role=form.cleaned_data["role"], unit=unit
            )
        except ValidationError as exc:
            _apply_errors(form, exc, "role")
        else:
            messages.success(
                request,
                _("%(username)s is now %(role)s over %(unit)s.")
                % {
                    "username": target.username,
                    "role": assignment.get_role_display(),
                    "unit": unit.name,
                },
            )
            return redirect("accounts:user_detail", username=target.username)
    return _render_detail(request, target, grant_form=form)


@require_POST
def assignment_revoke(request, username, pk):
    actor = request.user
    target = _visible_user(request, username)
    assignment = get_object_or_404(Assignment.objects.select_related("unit"), pk=pk, user=target)
    if not policies.can_revoke(actor, assignment):
        if assignment.is_active and policies.can_manage_users(actor):
            messages.error(
                request,
                _(
                    "You can only revoke roles over units within your own jurisdiction; "
                    "ask an administrator of %(unit)s."
                )
                % {"unit": assignment.unit.name},
            )
            return redirect("accounts:user_detail", username=target.username)
        raise PermissionDenied
    services.assignment_revoke(actor=actor, assignment=assignment)
    messages.success(
        request,
        _("Revoked: %(role)s over %(unit)s.")
        % {"role": assignment.get_role_display(), "unit": assignment.unit.name},
    )
    return redirect("accounts:user_detail", username=target.username)


def user_edit(request, username):
    target = _visible_user(request, username)
    _require(policies.can_change_user(request.user, target))
    initial = {f: getattr(target, f) for f in ("first_name", "last_name", "email", "language")}
    form = UserEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update(actor=request.user, user=target, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("The account details are saved."))
            return redirect("accounts:user_detail", username=target.username)
    return render(request, "accounts/user_edit.html", {"form": form, "target": target})


def user_password(request, username):
    target = _visible_user(request, username)
    _require(policies.can_change_user(request.user, target))
    form = SetPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_set_password(
                actor=request.user, user=target, password=form.cleaned_data["password1"]
            )
        except ValidationError as exc:
            _apply_errors(form, exc, "password1")
        else:
            messages.success(
                request,
                _("The new password is set. Give it to %(username)s privately.")
                % {"username": target.username},
            )
            return redirect("accounts:user_detail", username=target.username)
    return render(request, "accounts/user_password.html", {"form": form, "target": target})


@require_POST
def user_set_active(request, username):
    target = _visible_user(request, username)
    active = request.POST.get("active") == "1"
    if active:
        _require(policies.can_change_user(request.user, target))
    elif target.pk == request.user.pk:
        messages.error(request, _("You cannot deactivate your own account."))
        return redirect("accounts:user_detail", username=target.username)
    else:
        _require(policies.can_deactivate_user(request.user, target))
    if target.is_active != active:
        services.user_update(actor=request.user, user=target, is_active=active)
    if active:
        messages.success(request, _("The account is active again."))
    else:
        messages.success(
            request,
            _(
                "The account is deactivated: it can no longer log in, and its API tokens "
                "stop working."
            ),
        )
    return redirect("accounts:user_detail", username=target.username)


@require_POST
def user_two_factor_reset(request, username):
    target = _visible_user(request, username)
    _require(policies.can_change_user(request.user, target))
    services.two_factor_reset(actor=request.user, user=target)
    messages.success(
        request,
        _(
            "Two-factor authentication is reset. %(username)s will set up an authenticator "
            "app again at the next log-in."
        )
        % {"username": target.username},
    )
    return redirect("accounts:user_detail", username=target.username)


# --- API tokens -------------------------------------------------------------------------


def tokens(request):
    _require(policies.can_manage_tokens(request.user))
    q = request.GET.get("q", "").strip()
    return render(
        request,
        "accounts/token_list.html",
        {"page": _page(request, selectors.tokens_for(request.user, q=q)), "q": q},
    )


@never_cache
def token_create(request):
    actor = request.user
    _require(policies.can_manage_tokens(actor))
    owners = selectors.token_owners_for(actor)
    initial = {"user": request.GET.get("user", "")}
    form = TokenCreateForm(request.POST or None, users=owners, initial=initial)
    if request.method == "POST" and form.is_valid():
        owner = form.cleaned_data["user"]
        _require(policies.can_create_token_for(actor, owner))
        try:
            token, raw = services.token_create(
                actor=actor, user=owner, name=form.cleaned_data["name"]
            )
        except ValidationError as exc:
            _apply_errors(form, exc, "name")
        else:
            return render(
                request, "accounts/token_created.html", {"token": token, "raw_token": raw}
            )
    return render(request, "accounts/token_create.html", {"form": form})


@require_POST
def token_revoke(request, pk):
    actor = request.user
    _require(policies.can_manage_tokens(actor))
    token = selectors.token_get(actor, pk)
    if token is None:
        raise Http404(_("No such token within your jurisdiction."))
    if not token.is_active:
        messages.info(request, _("This token was already revoked."))
    else:
        _require(policies.can_revoke_token(actor, token))
        services.token_revoke(actor=actor, token=token)
        messages.success(
            request,
            _("The token “%(name)s” is revoked; it no longer works.") % {"name": token.name},
        )
    return redirect("accounts:tokens")
