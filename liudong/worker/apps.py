from django.apps import AppConfig


class WorkerConfig(AppConfig):
    name = "liudong.worker"
    label = "worker"
    verbose_name = "worker"
