from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "probity.accounts"
    label = "accounts"
    verbose_name = "Accounts"
