from django.apps import AppConfig


class BackupConfig(AppConfig):
    name = "liudong.backup"
    label = "backup"
    verbose_name = "Backup and restore"
