"""View guards: signed in, with a region, and with the capability the page needs."""

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _

from liudong.accounts.roles import USE_WEB, can

#: A view function, whatever its URL arguments; a guard hands back the view's own type (as
#: functools.wraps does), so a page typed with SignedInRequest and HttpResponse stays so.
View = TypeVar("View", bound=Callable[..., HttpResponseBase])


def staff_required(capability: str = USE_WEB) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not can(request.user, capability):
                raise PermissionDenied(_("Your role does not allow this page."))
            return view(request, *args, **kwargs)

        return cast(View, wrapper)

    return decorator
