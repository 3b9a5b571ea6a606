"""The case pages: the portal (apply, my cases, public tracking), the staff pages (window,
inbox, case page) and the documents (notices, uploaded files). Each part keeps its own routes."""

from django.urls import include, path

app_name = "cases"

urlpatterns = [
    path("", include("tongban.cases.urls.portal")),
    path("", include("tongban.cases.urls.staff")),
    path("", include("tongban.cases.urls.documents")),
]
