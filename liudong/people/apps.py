from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "liudong.people"
    label = "people"
