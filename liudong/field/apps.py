from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FieldConfig(AppConfig):
    name = "liudong.field"
    label = "field"
    verbose_name = _("field work offline")
    default_auto_field = "django.db.models.BigAutoField"
