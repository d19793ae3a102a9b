from rest_framework import mixins

from liudong.accounts.permissions import capability_required
from liudong.accounts.roles import VIEW_AUDIT
from liudong.api.viewsets import ScopedModelViewSet
from liudong.audit.filters import AuditFilter
from liudong.audit.models import AuditEntry

from .serializers import AuditEntrySerializer


class AuditEntryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedModelViewSet):
    """The audit log of the caller's region, newest first. Read-only: there is no way to
    change or remove an entry."""

    serializer_class = AuditEntrySerializer
    permission_classes = [capability_required(VIEW_AUDIT)]
    filterset_class = AuditFilter
    lookup_field = "seq"
    model = AuditEntry
