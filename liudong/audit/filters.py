import django_filters
from django.utils.translation import gettext_lazy as _

from .models import Action, AuditEntry


class AuditFilter(django_filters.FilterSet):
    # Labels of our own: django-filter's are built from the lookup ("at is greater than or
    # equal to") and its catalogue has no zh_Hans, so the page showed them in English.
    action = django_filters.ChoiceFilter(choices=Action.choices, label=_("Action"))
    since = django_filters.DateFilter(field_name="at", lookup_expr="date__gte", label=_("From"))
    until = django_filters.DateFilter(field_name="at", lookup_expr="date__lte", label=_("Until"))
    username = django_filters.CharFilter(field_name="actor_username", label=_("Account"))
    object_type = django_filters.CharFilter(label=_("Record type"))
    object_id = django_filters.CharFilter(label=_("Record ID"))

    class Meta:
        model = AuditEntry
        fields = ["action", "since", "until", "username", "object_type", "object_id"]
