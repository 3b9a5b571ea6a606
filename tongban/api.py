"""The JSON API at /api/v1/: each app contributes a router; schema at /api/v1/openapi.json."""

from ninja import NinjaAPI
from ninja.security import django_auth

from tongban.catalog.api import router as catalog_router
from tongban.org.api import router as org_router

api = NinjaAPI(
    title="通办 tongban API",
    version="1",
    description="一网通办平台接口。所有接口需登录，返回的数据按调用者的角色范围限定。",
    auth=django_auth,
    urls_namespace="api",
)
api.add_router("/org", org_router)
api.add_router("", catalog_router)
