from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "opiniondesk.accounts"
    label = "accounts"
