from typing import Any

from django.http import HttpRequest

from liudong.accounts.roles import CAPABILITIES


def navigation(request: HttpRequest) -> dict[str, Any]:
    """What the signed-in user may open, for the menu (the views check again)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.region_id:
        return {"caps": set()}
    return {"caps": CAPABILITIES.get(user.role, set())}
