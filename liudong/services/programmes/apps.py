from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProgrammesConfig(AppConfig):
    # Its own app (own tables and migrations) under services, where DESIGN.md §4 places the
    # benefit programmes beside the other services a family receives.
    name = "liudong.services.programmes"
    label = "programmes"
    verbose_name = _("reward and assistance programmes")

    def ready(self) -> None:
        # Imported here: an app's modules load once the app registry is ready.
        from liudong import events

        from . import requalification

        # Her household registration moved out of the county: her benefits end (people
        # publishes the event and never imports the programmes).
        events.subscribe(events.HouseholdMoved, requalification.on_household_moved)
