import django_filters

from .models import Action, AuditEntry


class AuditFilter(django_filters.FilterSet):
    action = django_filters.ChoiceFilter(choices=Action.choices)
    since = django_filters.DateFilter(field_name="at", lookup_expr="date__gte")
    until = django_filters.DateFilter(field_name="at", lookup_expr="date__lte")
    username = django_filters.CharFilter(field_name="actor_username")
    object_type = django_filters.CharFilter()
    object_id = django_filters.CharFilter()

    class Meta:
        model = AuditEntry
        fields = ["action", "since", "until", "username", "object_type", "object_id"]
