from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo data set. It stands above every domain app so that each issue can extend
    ``seed_demo`` with its own invented records."""

    name = "probity.demo"
    label = "demo"
    verbose_name = "Demo data"
