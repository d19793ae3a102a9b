from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ResidentsConfig(AppConfig):
    name = "liudong.residents"
    label = "residents"
    verbose_name = _("residents' own view")
    default_auto_field = "django.db.models.BigAutoField"
