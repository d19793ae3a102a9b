from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "liudong.accounts"
    label = "accounts"
