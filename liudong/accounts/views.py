import math
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import segno
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from liudong.audit import services as audit
from liudong.audit.middleware import client_address
from liudong.audit.models import Action
from liudong.base import scoped_object_or_404
from liudong.web.decorators import staff_required
from liudong.web.forms import apply_service

from . import second_factor, services
from .forms import (
    CodeForm,
    LoginForm,
    PasswordChangeForm,
    RecoveryCodeForm,
    TokenForm,
    UserForm,
    user_initial,
)
from .middleware import PASSWORD, SECOND_FACTOR, SECOND_FACTOR_PENDING, pending_step
from .models import User

if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails

    class SignedInRequest(HttpRequest):
        """A request past login_required / staff_required: its user is an account."""

        user: User
        htmx: HtmxDetails

else:
    SignedInRequest = HttpRequest
from .roles import MANAGE_USERS, Role, can


def _signed_in_with_region(
    view: Callable[..., HttpResponse],
) -> Callable[..., HttpResponse]:
    """Any account with a region, whatever its role: its own tokens are its own business
    (an auditor has them as much as anyone), and so are its sign-in security settings."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.region_id or not request.user.is_active:
            raise PermissionDenied(_("Your role does not allow this page."))
        return view(request, *args, **kwargs)

    return wrapper


def login_view(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST or None)
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if request.method == "POST" and form.is_valid():
        try:
            user = services.login_with_password(
                request,
                form.cleaned_data["username"],
                form.cleaned_data["password"],
                address=client_address(request),
            )
        except services.LoginRefused as exc:
            form.add_error(None, str(exc))
            if exc.locked_until:
                wait = (exc.locked_until - timezone.now()).total_seconds()
                response = render(
                    request, "accounts/login.html", {"form": form, "next": next_url}, status=429
                )
                response["Retry-After"] = str(max(1, math.ceil(wait)))
                return response
        else:
            login(request, user)
            if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
                next_url = ""
            if second_factor.is_required(user) or second_factor.has_second_factor(user):
                # Password then code: the middleware holds the session on the code page.
                request.session[SECOND_FACTOR_PENDING] = True
                return _to_step("accounts:second_factor", next_url)
            if user.must_change_password:
                return _to_step("accounts:password_change", next_url)
            return redirect(next_url or "web:home")
    return render(request, "accounts/login.html", {"form": form, "next": next_url})


def _to_step(name: str, next_url: str) -> HttpResponse:
    target = reverse(name)
    return redirect(f"{target}?{urlencode({'next': next_url})}" if next_url else target)


def _safe_next(request: HttpRequest) -> str:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
        return ""
    return next_url


def _after_step(request: HttpRequest, next_url: str) -> HttpResponse:
    """Where a finished sign-in step leads: the next step still owed, else the page asked for."""
    step = pending_step(request)
    if step == PASSWORD:
        return _to_step("accounts:password_change", next_url)
    return redirect(next_url or "web:home")


def _verified(request: HttpRequest, device: Any) -> None:
    otp_login(request, device)
    request.session.pop(SECOND_FACTOR_PENDING, None)


@login_required
def second_factor_view(request: SignedInRequest) -> HttpResponse:
    """Second step of signing in: the code from the authenticator, or a recovery code."""
    next_url = _safe_next(request)
    user = request.user
    if pending_step(request) != SECOND_FACTOR:
        return _after_step(request, next_url)
    if not second_factor.has_second_factor(user):
        return _to_step("accounts:second_factor_enrol", next_url)
    code_form = CodeForm(request.POST if "code" in request.POST else None)
    recovery_form = RecoveryCodeForm(request.POST if "recovery_code" in request.POST else None)
    if request.method == "POST":
        if code_form.is_bound and code_form.is_valid():
            device = apply_service(
                code_form,
                lambda: second_factor.verify_code(user=user, code=code_form.cleaned_data["code"]),
            )
            if device is not None:
                _verified(request, device)
                return _after_step(request, next_url)
        if recovery_form.is_bound and recovery_form.is_valid():
            holder = apply_service(
                recovery_form,
                lambda: second_factor.use_recovery_code(
                    user=user, code=recovery_form.cleaned_data["recovery_code"]
                ),
            )
            if holder is not None:
                _verified(request, holder)
                left = second_factor.recovery_codes_left(user)
                messages.warning(
                    request,
                    _(
                        "Signed in with a recovery code; %(left)d left. If your device is lost, "
                        "set up a new one now."
                    )
                    % {"left": left},
                )
                return redirect("accounts:security")
    return render(
        request,
        "accounts/second_factor.html",
        {
            "code_form": code_form,
            "recovery_form": recovery_form,
            "next": next_url,
            "recovery_open": recovery_form.is_bound,
        },
    )


@login_required
def second_factor_enrol(request: SignedInRequest) -> HttpResponse:
    """Set up an authenticator: scan the QR (or type the key), then prove it with a code.

    Reached by an account that has none yet (a required one is sent here before anything
    else) and by a verified session replacing its device; never by a session that still owes
    the code of a device it already has (that would let a password alone replace it)."""
    next_url = _safe_next(request)
    user = request.user
    if pending_step(request) == SECOND_FACTOR and second_factor.has_second_factor(user):
        return _to_step("accounts:second_factor", next_url)
    device = second_factor.begin_enrolment(user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        enrolled = apply_service(
            form,
            lambda: second_factor.confirm_enrolment(
                acting_user=user, device=device, code=form.cleaned_data["code"]
            ),
        )
        if enrolled is not None:
            _verified(request, enrolled.device)
            return render(
                request,
                "accounts/recovery_codes.html",
                {"codes": enrolled.recovery_codes, "next": next_url, "enrolled": True},
            )
    qr = segno.make(device.config_url, error="m")
    return render(
        request,
        "accounts/second_factor_enrol.html",
        {
            "form": form,
            "next": next_url,
            "qr": qr.svg_data_uri(scale=5, border=2),
            "secret": second_factor.secret_for_typing(device),
            "required": second_factor.is_required(user),
            "replacing": second_factor.has_second_factor(user),
        },
    )


@_signed_in_with_region
def security(request: SignedInRequest) -> HttpResponse:
    """One's own sign-in settings: the second factor, recovery codes, the password."""
    user = request.user
    return render(
        request,
        "accounts/security.html",
        {
            "has_device": second_factor.has_second_factor(user),
            "required": second_factor.is_required(user),
            "codes_left": second_factor.recovery_codes_left(user),
        },
    )


@require_POST
@_signed_in_with_region
def recovery_codes_new(request: SignedInRequest) -> HttpResponse:
    try:
        codes = second_factor.new_recovery_codes(acting_user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("accounts:security")
    return render(
        request, "accounts/recovery_codes.html", {"codes": codes, "next": "", "enrolled": False}
    )


@login_required
def password_change(request: SignedInRequest) -> HttpResponse:
    next_url = _safe_next(request)
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        done = apply_service(
            form,
            lambda: (
                services.change_own_password(
                    acting_user=request.user,
                    old_password=data["old_password"],
                    new_password=data["new_password"],
                )
                or True
            ),
        )
        if done:
            # The session stays signed in (and verified) with the new password's hash.
            update_session_auth_hash(request, request.user)
            messages.success(request, _("Your password has been changed."))
            return redirect(next_url or "web:home")
    return render(
        request,
        "accounts/password_change.html",
        {"form": form, "next": next_url, "forced": request.user.must_change_password},
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        audit.record(
            Action.LOGOUT,
            acting_user=request.user,
            obj=request.user,
            region=request.user.region_id or "",
        )
    logout(request)
    return redirect("accounts:login")


@staff_required()
def user_list(request: SignedInRequest) -> HttpResponse:
    users = User.objects.in_scope(request.user).select_related("region")
    role = request.GET.get("role", "")
    if role in Role.values:
        users = users.filter(role=role)
    return render(
        request,
        "accounts/user_list.html",
        {
            "users": users,
            "roles": Role.choices,
            "role": role,
            "may_manage": can(request.user, MANAGE_USERS),
        },
    )


@staff_required()
def user_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    account = scoped_object_or_404(User.objects.select_related("region"), request.user, pk=pk)
    if request.method == "GET":
        audit.record_view(
            acting_user=request.user, obj=account, region=account.region_id, via="web"
        )
    may_manage = can(request.user, MANAGE_USERS)
    form = UserForm(
        request.POST or None,
        initial=user_initial(account),
        editing=account,
        under=request.user.region_id or "",
    )
    if request.method == "POST":
        if not may_manage:
            raise PermissionDenied(_("Only a county administrator may manage staff accounts."))
        data = form.cleaned_data if form.is_valid() else None
        if data and apply_service(
            form,
            lambda: services.update_user(
                acting_user=request.user,
                user=account,
                expected_version=data["version"],
                full_name=data["full_name"],
                role=data["role"],
                region=data["region"],
                phone=data["phone"],
                is_active=data["is_active"],
            ),
        ):
            messages.success(request, _("Saved."))
            return redirect("accounts:user_detail", pk=account.pk)
    return render(
        request,
        "accounts/user_form.html",
        {
            "form": form,
            "account": account,
            "may_manage": may_manage,
            "has_second_factor": second_factor.has_second_factor(account),
            "second_factor_required": second_factor.is_required(account),
        },
    )


@require_POST
@staff_required(MANAGE_USERS)
def user_reset_password(request: SignedInRequest, pk: int) -> HttpResponse:
    account = scoped_object_or_404(User, request.user, pk=pk)
    password = services.set_password(acting_user=request.user, user=account)
    messages.success(
        request,
        _("New password for %(name)s: %(password)s — give it to the person in private.")
        % {"name": account.username, "password": password},
    )
    return redirect("accounts:user_detail", pk=account.pk)


@require_POST
@staff_required(MANAGE_USERS)
def user_reset_second_factor(request: SignedInRequest, pk: int) -> HttpResponse:
    account = scoped_object_or_404(User, request.user, pk=pk)
    second_factor.reset_second_factor(acting_user=request.user, user=account)
    messages.success(
        request,
        _("The second factor of %(name)s has been removed; they set up a new one at next sign-in.")
        % {"name": account.username},
    )
    return redirect("accounts:user_detail", pk=account.pk)


@staff_required(MANAGE_USERS)
def user_create(request: SignedInRequest) -> HttpResponse:
    form = UserForm(
        request.POST or None,
        initial={"region": request.user.region_id},
        under=request.user.region_id or "",
    )
    data = form.cleaned_data if request.method == "POST" and form.is_valid() else None
    created = data and apply_service(
        form,
        lambda: services.create_user(
            acting_user=request.user,
            username=data["username"],
            role=data["role"],
            region=data["region"],
            full_name=data["full_name"],
            phone=data["phone"],
        ),
    )
    if created:
        account, password = created
        messages.success(
            request,
            _(
                "Account %(name)s created. Its first password is %(password)s — "
                "give it to the person in private."
            )
            % {"name": account.username, "password": password},
        )
        return redirect("accounts:user_detail", pk=account.pk)
    return render(
        request, "accounts/user_form.html", {"form": form, "account": None, "may_manage": True}
    )


@_signed_in_with_region
def token_list(request: SignedInRequest) -> HttpResponse:
    """Your API tokens and, for a staff administrator, those of the staff in scope; a new
    one is issued here with the expiry chosen (its key shown once)."""
    form = TokenForm(request.POST or None, may_manage=can(request.user, MANAGE_USERS))
    issued = None
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data.get("username") or ""
        account = (
            scoped_object_or_404(User, request.user, username__iexact=username)
            if username
            else request.user
        )
        issued = apply_service(
            form,
            lambda: services.issue_token(
                acting_user=request.user,
                user=account,
                name=form.cleaned_data["name"],
                days=form.cleaned_data["days"],
            ),
        )
        if issued:
            form = TokenForm(may_manage=can(request.user, MANAGE_USERS))
    tokens = services.tokens_visible_to(request.user).order_by("user__username", "-created")
    now = timezone.now()
    return render(
        request,
        "accounts/token_list.html",
        {
            "form": form,
            "issued": issued,
            "rows": [(token, services.token_state(token, now)) for token in tokens],
        },
    )


@require_POST
@_signed_in_with_region
def token_revoke(request: SignedInRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(services.tokens_visible_to(request.user), pk=pk)
    services.revoke_token(acting_user=request.user, token=token)
    messages.success(request, _("Token %(prefix)s… revoked.") % {"prefix": token.prefix})
    return redirect("accounts:token_list")
