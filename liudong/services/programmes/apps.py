from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProgrammesConfig(AppConfig):
    # Its own app (own tables and migrations) under services, where DESIGN.md §4 places the
    # benefit programmes beside the other services a family receives.
    name = "liudong.services.programmes"
    label = "programmes"
    verbose_name = _("reward and assistance programmes")
