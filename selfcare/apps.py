from django.apps import AppConfig


class SelfcareConfig(AppConfig):
    name = "selfcare"
