"""API permission classes built on roles.can()."""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from .roles import USE_WEB, can


class IsStaffWithRegion(BasePermission):
    """Signed in, active, with a region and a role that may use pages and lists."""

    def has_permission(self, request, view):
        return can(request.user, USE_WEB)


def capability_for_writes(capability: str) -> type[BasePermission]:
    """Reads need staff status; writes need ``capability``."""

    class _Permission(IsStaffWithRegion):
        def has_permission(self, request, view):
            if not super().has_permission(request, view):
                return False
            return request.method in SAFE_METHODS or can(request.user, capability)

    _Permission.__name__ = f"Writes_{capability}"
    return _Permission


def capability_required(capability: str) -> type[BasePermission]:
    class _Permission(IsStaffWithRegion):
        def has_permission(self, request, view):
            return super().has_permission(request, view) and can(request.user, capability)

    _Permission.__name__ = f"Requires_{capability}"
    return _Permission
