import math
from functools import wraps

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from liudong.audit import services as audit
from liudong.audit.middleware import client_address
from liudong.audit.models import Action
from liudong.web.decorators import staff_required
from liudong.web.forms import apply_service

from . import services
from .forms import LoginForm, TokenForm, UserForm, user_initial
from .models import User
from .roles import MANAGE_USERS, Role, can


def login_view(request):
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
            return redirect(next_url or "web:home")
    return render(request, "accounts/login.html", {"form": form, "next": next_url})


@require_POST
def logout_view(request):
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
def user_list(request):
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
def user_detail(request, pk):
    account = get_object_or_404(User.objects.in_scope(request.user).select_related("region"), pk=pk)
    if request.method == "GET":
        audit.record_view(
            acting_user=request.user, obj=account, region=account.region_id, via="web"
        )
    may_manage = can(request.user, MANAGE_USERS)
    form = UserForm(request.POST or None, initial=user_initial(account), editing=account)
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
        {"form": form, "account": account, "may_manage": may_manage},
    )


@require_POST
@staff_required(MANAGE_USERS)
def user_reset_password(request, pk):
    account = get_object_or_404(User.objects.in_scope(request.user), pk=pk)
    password = services.set_password(acting_user=request.user, user=account)
    messages.success(
        request,
        _("New password for %(name)s: %(password)s — give it to the person in private.")
        % {"name": account.username, "password": password},
    )
    return redirect("accounts:user_detail", pk=account.pk)


@staff_required(MANAGE_USERS)
def user_create(request):
    form = UserForm(request.POST or None, initial={"region": request.user.region_id})
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


def _signed_in_with_region(view):
    """Any account with a region, whatever its role: its own tokens are its own business
    (an auditor has them as much as anyone)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.region_id or not request.user.is_active:
            raise PermissionDenied(_("Your role does not allow this page."))
        return view(request, *args, **kwargs)

    return wrapper


@_signed_in_with_region
def token_list(request):
    """Your API tokens and, for a staff administrator, those of the staff in scope; a new
    one is issued here with the expiry chosen (its key shown once)."""
    form = TokenForm(request.POST or None, may_manage=can(request.user, MANAGE_USERS))
    issued = None
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data.get("username") or ""
        account = (
            get_object_or_404(User.objects.in_scope(request.user), username__iexact=username)
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
def token_revoke(request, pk):
    token = get_object_or_404(services.tokens_visible_to(request.user), pk=pk)
    services.revoke_token(acting_user=request.user, token=token)
    messages.success(request, _("Token %(prefix)s… revoked.") % {"prefix": token.prefix})
    return redirect("accounts:token_list")
