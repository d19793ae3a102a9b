from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "liudong.jobs"
    label = "jobs"
    verbose_name = "jobs"
