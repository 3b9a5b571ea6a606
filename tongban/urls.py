from django.contrib import admin
from django.urls import include, path

from tongban.api import api

urlpatterns = [
    path("", include("tongban.web.urls")),
    path("org/", include("tongban.org.urls")),
    path("calendar/", include("tongban.timelimits.urls")),
    path("items/", include("tongban.catalog.urls")),
    path("webhooks/", include("tongban.webhooks.urls")),
    path("reviews/", include("tongban.reviews.urls")),
    path("supervision/", include("tongban.supervision.urls")),
    path("metrics/", include("tongban.metrics.urls")),
    path("", include("tongban.cases.urls")),
    path("api/v1/", api.urls),
    path("django-admin/", admin.site.urls),
]
