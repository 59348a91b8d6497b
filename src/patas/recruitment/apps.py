from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def create_cache_table(using: str = "default", **kwargs: Any) -> None:
    """The dashboard's snapshot lives in Django's cache, a database table by default: every
    `migrate` (serve, demo, the test database) creates it if missing."""
    from django.core.management import call_command

    call_command("createcachetable", database=using, verbosity=0)


class RecruitmentConfig(AppConfig):
    name = "patas.recruitment"
    label = "recruitment"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from patas.messaging import router
        from patas.recruitment.router_step import attribute_first_message, unattributed

        router.register("attribution", 5, attribute_first_message, unattributed)
        post_migrate.connect(create_cache_table, sender=self)
