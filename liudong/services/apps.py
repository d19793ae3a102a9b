from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServicesConfig(AppConfig):
    name = "liudong.services"
    label = "services"
    verbose_name = _("services, campaigns, associations and help requests")
