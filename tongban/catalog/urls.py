from django.urls import include, path

from .views import audit, exchange, guides, manage, search

app_name = "catalog"

# Guides last: their <local_code> pattern would otherwise shadow the fixed paths before it.
urlpatterns = [
    path("", include(search.urlpatterns)),
    path("audit/", include(audit.urlpatterns)),
    path("exchange/", include(exchange.urlpatterns)),
    path("manage/", include(manage.urlpatterns)),
    path("", include(guides.urlpatterns)),
]
