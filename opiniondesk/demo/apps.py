from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data and its commands (`load_demo`, `demo_totp`): demo mode only. It may import
    every app; no app imports it."""

    name = "opiniondesk.demo"
    label = "demo"
