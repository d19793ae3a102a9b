from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "liudong.api"
    label = "api"
