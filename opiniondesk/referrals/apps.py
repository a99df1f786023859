from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "opiniondesk.referrals"
    label = "referrals"
