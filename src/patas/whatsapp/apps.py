from django.apps import AppConfig


class WhatsappConfig(AppConfig):
    name = "patas.whatsapp"
    label = "whatsapp"
    default_auto_field = "django.db.models.BigAutoField"
