from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "liudong.exchange"
    label = "exchange"
    verbose_name = "Exchange between jurisdictions"

    def ready(self) -> None:
        # Imported here: an app's modules load once the app registry is ready.
        from liudong import events

        from .assistance import living
        from .messaging import catalogue, services

        # A message type without a handler (or a builder) refuses the start-up.
        catalogue.check()
        # The exchange hears of every event that may send a notice; the apps that publish
        # them never import the exchange.
        for event_type in {e for declared in catalogue.TYPES.values() for e in declared.sent_on}:
            events.subscribe(event_type, services.send_notices)
        # A benefit's re-qualification asks her residence whether she is alive and living
        # there (the programmes publish, never import the exchange).
        events.subscribe(events.LivingConfirmationAsked, living.ask_living)
