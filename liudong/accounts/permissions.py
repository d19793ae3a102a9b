"""API permission classes built on roles.can()."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework.permissions import SAFE_METHODS, BasePermission

if TYPE_CHECKING:  # DRF's settings import this module while rest_framework.views loads
    from rest_framework.request import Request
    from rest_framework.views import APIView

from .roles import USE_WEB, can


class IsStaffWithRegion(BasePermission):
    """Signed in, active, with a region and a role that may use pages and lists."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return can(request.user, USE_WEB)


def capability_for_writes(capability: str) -> type[BasePermission]:
    """Reads need staff status; writes need ``capability``."""

    class _Permission(IsStaffWithRegion):
        def has_permission(self, request: Request, view: APIView) -> bool:
            if not super().has_permission(request, view):
                return False
            return request.method in SAFE_METHODS or can(request.user, capability)

    _Permission.__name__ = f"Writes_{capability}"
    return _Permission


def capability_for_all(capability: str) -> type[BasePermission]:
    """Reads and writes need staff status and ``capability``: for records whose pages need
    it to be read at all (certificates, notices, service records), so the API shows a
    role no more than the web does (tests/test_generic_access.py)."""

    class _Permission(IsStaffWithRegion):
        def has_permission(self, request: Request, view: APIView) -> bool:
            return super().has_permission(request, view) and can(request.user, capability)

    _Permission.__name__ = f"All_{capability}"
    return _Permission


class HasRegion(BasePermission):
    """Signed in, active, with a region, whatever the role: for what concerns the account
    itself (its own API tokens), which an auditor has as much as anyone."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return bool(getattr(user, "is_authenticated", False) and user.is_active and user.region_id)


def capability_required(capability: str) -> type[BasePermission]:
    """The capability alone, not USE_WEB besides: the auditor reads the audit API and
    holds no other capability."""

    class _Permission(BasePermission):
        def has_permission(self, request: Request, view: APIView) -> bool:
            return can(request.user, capability)

    _Permission.__name__ = f"Requires_{capability}"
    return _Permission
