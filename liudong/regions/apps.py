from django.apps import AppConfig


class RegionsConfig(AppConfig):
    name = "liudong.regions"
    label = "regions"
    verbose_name = "regions"
