from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "liudong.web"
    label = "web"

    def ready(self) -> None:
        from liudong.controlchars import install_form_guard

        install_form_guard()
