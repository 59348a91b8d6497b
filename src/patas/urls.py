from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from patas.programs import media as pack_media

urlpatterns = [
    path("webhooks/", include("patas.whatsapp.urls")),
    path("", include("patas.core.urls")),
    path(settings.ADMIN_URL, admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("dashboard/", include("patas.recruitment.urls")),
    path("surveys/", include("patas.surveys.urls")),
    path("safety/", include("patas.safety.urls")),
    path("try/", include("patas.simulation.urls")),
    path("sending/", include("patas.messaging.urls")),
    path("media/<str:program_id>/<path:file>", pack_media.serve, name="pack_media"),
    path("", include("patas.console.urls")),
]
