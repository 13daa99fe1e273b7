from django.apps import AppConfig


class TestingConfig(AppConfig):
    name = "probity.testing"
    label = "testing"
    verbose_name = "Testing"
