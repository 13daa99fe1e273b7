from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "probity.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from probity.accounts import signals  # noqa: F401 - connects the receivers
