from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "liudong.exchange"
    label = "exchange"
    verbose_name = "Exchange between jurisdictions"
