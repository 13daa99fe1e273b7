from django.apps import AppConfig


class PersonnelConfig(AppConfig):
    name = "probity.personnel"
    label = "personnel"
    verbose_name = "Personnel"
