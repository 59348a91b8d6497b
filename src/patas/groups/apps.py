from django.apps import AppConfig


class GroupsConfig(AppConfig):
    name = "patas.groups"
    label = "groups"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from patas.messaging import router
        from patas.programs import hooks

        from . import actions, step

        router.register("group", 50, step.handle, step.members)
        if actions.place_enrolled not in hooks.on_enrolled:
            hooks.on_enrolled.append(actions.place_enrolled)
