from django.urls import include, path

from .views import audit, exchange, guides, search

app_name = "catalog"

urlpatterns = [
    path("", include(search.urlpatterns)),
    path("", include(guides.urlpatterns)),
    path("audit/", include(audit.urlpatterns)),
    path("exchange/", include(exchange.urlpatterns)),
]
