from django.apps import AppConfig


class PossimConfig(AppConfig):
    name = "integration.possim"
    label = "possim"
    verbose_name = "POS simulator"
    default_auto_field = "django.db.models.BigAutoField"
