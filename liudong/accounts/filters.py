import django_filters

from liudong.regions.filters import filter_region_code, filter_within_code

from .models import User
from .roles import Role


class UserFilter(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(choices=Role.choices)
    region = django_filters.CharFilter(method=filter_region_code, label="region code")
    within = django_filters.CharFilter(method=filter_within_code, label="subtree of this code")

    class Meta:
        model = User
        fields = ["role", "region", "within", "is_active"]
