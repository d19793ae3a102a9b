from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "liudong.web"
    label = "web"
