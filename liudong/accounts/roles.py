"""Staff roles (DESIGN.md §1), the region levels each may hold, and what each may do.

Capabilities are named here once; views, API permissions and the CLI ask
``can(user, CAPABILITY)`` instead of comparing role strings; services check capability and
region together with ``liudong.authorization.authorize``.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from liudong.actors import Operator
from liudong.regions.codes import Level


class Role(models.TextChoices):
    COLLECTOR = "collector", _("information collector")
    VILLAGE = "village", _("village or community specialist")
    TOWNSHIP = "township", _("township or street specialist")
    PROVIDER = "provider", _("service station technician")
    COUNTY = "county", _("county administrator")
    INSPECTOR = "inspector", _("assessment inspector")
    NODE = "node", _("exchange node")
    AUDITOR = "auditor", _("audit administrator")


ALLOWED_LEVELS: dict[str, set[Level]] = {
    Role.COLLECTOR: {Level.VILLAGE, Level.GROUP},
    Role.VILLAGE: {Level.VILLAGE},
    Role.TOWNSHIP: {Level.TOWNSHIP},
    Role.PROVIDER: {Level.COUNTY, Level.TOWNSHIP},
    # A city or provincial bureau runs the same role over a larger subtree.
    Role.COUNTY: {Level.PROVINCE, Level.CITY, Level.COUNTY},
    Role.INSPECTOR: {Level.PROVINCE, Level.CITY, Level.COUNTY, Level.TOWNSHIP},
    Role.NODE: set(Level),
    Role.AUDITOR: {Level.PROVINCE, Level.CITY, Level.COUNTY},
}

# Capabilities
MANAGE_REGIONS = "manage_regions"  # add and rename villages and groups
MANAGE_USERS = "manage_users"  # create and change staff accounts
MANAGE_GRIDS = "manage_grids"
# Reading the audit log belongs to the auditor alone (separation of duties, MLPS level 3):
# whoever manages staff, or does the registry's daily work, must not review their own trail.
VIEW_AUDIT = "view_audit"
USE_WEB = "use_web"
CHANGE_PEOPLE = "change_people"  # register arrivals and departures, edit person files
# The registration township issues and revokes marriage-and-childbearing certificates;
# the residence (village, township, county) verifies them and gives notices.
ISSUE_CERTIFICATES = "issue_certificates"
VERIFY_CERTIFICATES = "verify_certificates"
# Campaigns, activities, association branches and help requests: the offices and stations
# that serve people where they live record what they did.
RECORD_SERVICES = "record_services"
# Employers, rental houses, sites, their agreements and the rental safety register.
MANAGE_PLACES = "manage_places"

# Monthly reports: every office reads the figures of its region; a unit submits its own
# month, the level above approves or returns it; a county keeps the indicator list.
VIEW_REPORTS = "view_reports"
SUBMIT_REPORTS = "submit_reports"
APPROVE_REPORTS = "approve_reports"
MANAGE_INDICATORS = "manage_indicators"
# Spot checks (抽查): draw a sample of files, print field sheets, record what was found.
SPOT_CHECK = "spot_check"
# Assistance requests (协查) to and from the other place: the township answers them
# (DESIGN.md §1); the county oversees and may ask and answer too.
ASSISTANCE = "assistance"
# Two-way assessment (双向考核): match an outflow register against an inflow register and
# read the per-county report (liudong.exchange.matching.services).
RUN_MATCHING = "run_matching"
# Reward and assistance programmes (issue 17): the township of household registration keeps
# the families, makes applications for them, posts the village notices, reviews and confirms
# beneficiaries each year; the county approves, decides appeals, opens the yearly
# re-qualification and makes the payment list for the finance bureau.
BENEFITS = "benefits"
APPROVE_BENEFITS = "approve_benefits"

CAPABILITIES: dict[str, set[str]] = {
    Role.COLLECTOR: {USE_WEB, CHANGE_PEOPLE, MANAGE_PLACES},
    Role.VILLAGE: {
        USE_WEB,
        CHANGE_PEOPLE,
        VERIFY_CERTIFICATES,
        MANAGE_PLACES,
        RECORD_SERVICES,
        VIEW_REPORTS,
    },
    Role.TOWNSHIP: {
        USE_WEB,
        MANAGE_GRIDS,
        CHANGE_PEOPLE,
        ISSUE_CERTIFICATES,
        VERIFY_CERTIFICATES,
        MANAGE_PLACES,
        RECORD_SERVICES,
        VIEW_REPORTS,
        SUBMIT_REPORTS,
        ASSISTANCE,
        BENEFITS,
    },
    # A service station records services; it does not keep the registry.
    Role.PROVIDER: {USE_WEB, RECORD_SERVICES},
    Role.COUNTY: {
        USE_WEB,
        MANAGE_GRIDS,
        MANAGE_REGIONS,
        MANAGE_USERS,
        CHANGE_PEOPLE,
        VERIFY_CERTIFICATES,
        MANAGE_PLACES,
        RECORD_SERVICES,
        VIEW_REPORTS,
        SUBMIT_REPORTS,
        APPROVE_REPORTS,
        MANAGE_INDICATORS,
        SPOT_CHECK,
        ASSISTANCE,
        RUN_MATCHING,
        BENEFITS,
        APPROVE_BENEFITS,
    },
    # An inspector reads figures to assess them and spot-checks files in the field.
    Role.INSPECTOR: {USE_WEB, VIEW_REPORTS, SPOT_CHECK, RUN_MATCHING},
    # Another jurisdiction's system: exchange messages only, never pages or lists.
    Role.NODE: set(),
    # The audit administrator (审计管理员) reads the log of their region and nothing else:
    # no person files, figures or staff lists (no USE_WEB). Their account is the operator's
    # (accounts.services.check_may_manage_account).
    Role.AUDITOR: {VIEW_AUDIT},
}


def can(user: object, capability: str) -> bool:
    """Whether ``user``'s role holds ``capability`` (the operator holds them all; a region
    is checked by ``liudong.authorization.authorize``, which callers that change data use)."""
    if isinstance(user, Operator):
        return True
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    if not getattr(user, "region_id", None):
        return False
    return capability in CAPABILITIES.get(getattr(user, "role", ""), set())


# Roles that must sign in with a second factor (MLPS level 3 identification): those that
# read or change the whole county and those that assess it. Adding a role is one line here;
# any role that may manage staff accounts (MANAGE_USERS) needs one too, whatever this says.
SECOND_FACTOR_ROLES: frozenset[str] = frozenset(
    {
        Role.COUNTY,
        Role.INSPECTOR,
        Role.AUDITOR,
    }
)


def second_factor_required(user: object) -> bool:
    """True for an account that may not use the web without a second factor."""
    role = getattr(user, "role", "")
    return role in SECOND_FACTOR_ROLES or MANAGE_USERS in CAPABILITIES.get(role, set())
