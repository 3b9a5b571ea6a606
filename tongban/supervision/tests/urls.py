"""The project's URLs plus the supervision pages and API router, for the tests (see settings.py)."""

import contextlib

from django.urls import include, path
from ninja.errors import ConfigError

from tongban.api import api
from tongban.supervision.api import router

# Before tongban.urls reads api.urls; already attached once the project routes it itself.
with contextlib.suppress(ConfigError):
    api.add_router("/supervision", router)

from tongban.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    path("supervision/", include("tongban.supervision.urls")),
    *[p for p in project_urlpatterns if str(getattr(p, "pattern", "")) != "supervision/"],
]
