"""The region a statistics request is for, checked against the user's own.

Below ``stats.services`` and ``stats.quality``, which both check a region asked for (one
rule for reports, targets and quality lists). It must not import other stats modules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from liudong.actors import is_operator, region_of
from liudong.regions.models import Region
from liudong.regions.services import resolve_region

if TYPE_CHECKING:
    from liudong.actors import Actor


def check_region(raw_code: str, *, acting_user: Actor) -> Region:
    """The region a report is asked for, which must lie in the user's own."""
    try:
        region = resolve_region(raw_code)
    except ValidationError as exc:
        raise ValidationError({"region": exc.messages}, code="unknown") from exc
    if not is_operator(acting_user) and not region.code.startswith(region_of(acting_user)):
        raise PermissionDenied(
            _("The region %(code)s lies outside your region %(region)s.")
            % {"code": region.code, "region": acting_user.region_id}
        )
    return region
