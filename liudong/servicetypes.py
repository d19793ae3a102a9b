"""The types of free service (DESIGN.md §3 "service") and their Chinese names.

Owns ``ServiceType``, the choices of ``services.ServiceRecord.service_type`` and of the
exchange's ``ReportedService`` and "service" message. It lives below every app, so the
exchange and stats can name a service type without importing the services app (which
would tie them into its models). It must not import any app: it is a leaf.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ServiceType(models.TextChoices):
    REPRODUCTIVE_HEALTH = "reproductive_health", _("reproductive-health check")
    PRE_PREGNANCY = "pre_pregnancy", _("pre-pregnancy health check (for a couple)")
    PRENATAL = "prenatal", _("prenatal care")
    POSTNATAL = "postnatal", _("postnatal care")
    CONTRACEPTIVE = "contraceptive", _("contraceptive supply of her choice")
    COUNSELLING = "counselling", _("counselling")
    GYNAECOLOGICAL = "gynaecological", _("gynaecological screening")
    VACCINATION_REFERRAL = "vaccination_referral", _("child vaccination referral")
    FOLLOW_UP = "follow_up", _("follow-up visit")
    RETURN_HOME = "return_home", _("return-home service (Spring Festival)")
    OTHER = "other", _("other")


# The names the offices' own forms and reports use: exports are in Chinese whatever the
# interface language (DESIGN.md §2 principle 5).
SERVICE_TYPE_ZH = {
    ServiceType.REPRODUCTIVE_HEALTH: "生殖健康检查",
    ServiceType.PRE_PREGNANCY: "孕前优生健康检查",
    ServiceType.PRENATAL: "孕期保健",
    ServiceType.POSTNATAL: "产后访视",
    ServiceType.CONTRACEPTIVE: "避孕药具发放",
    ServiceType.COUNSELLING: "咨询指导",
    ServiceType.GYNAECOLOGICAL: "妇科病筛查",
    ServiceType.VACCINATION_REFERRAL: "儿童预防接种转介",
    ServiceType.FOLLOW_UP: "随访",
    ServiceType.RETURN_HOME: "春节返乡服务",
    ServiceType.OTHER: "其他",
}
