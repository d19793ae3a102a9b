from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "liudong.audit"
    label = "audit"
