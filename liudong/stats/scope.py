"""The region a statistics request is for, checked against the user's own.

Below ``stats.services`` and ``stats.quality``, which both check a region asked for (one
rule for reports, targets and quality lists). It must not import other stats modules.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from liudong.actors import is_operator
from liudong.regions.models import Region
from liudong.regions.services import resolve_region


def check_region(acting_user, raw_code: str) -> Region:
    """The region a report is asked for, which must lie in the user's own."""
    try:
        region = resolve_region(raw_code)
    except ValidationError as exc:
        raise ValidationError({"region": exc.messages}, code="unknown") from exc
    if not is_operator(acting_user) and not region.code.startswith(acting_user.region_id):
        raise PermissionDenied(
            _("The region %(code)s lies outside your region %(region)s.")
            % {"code": region.code, "region": acting_user.region_id}
        )
    return region
