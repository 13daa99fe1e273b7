from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "probity.audit"
    label = "audit"
    verbose_name = "Audit"
