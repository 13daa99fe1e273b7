from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "probity.org"
    label = "org"
    verbose_name = "Organisation"
