"""The JSON API at /api/v1/: each app contributes a router; schema at /api/v1/openapi.json."""

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as ServiceValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import NinjaAPI
from ninja.errors import HttpError
from ninja.errors import ValidationError as SchemaValidationError
from ninja.security import django_auth

from tongban.cases.api import router as cases_router
from tongban.cases.services import CaseStateError
from tongban.catalog.api import router as catalog_router
from tongban.metrics.api import router as metrics_router
from tongban.org.api import router as org_router
from tongban.org.services import PermissionDeniedError
from tongban.org.tokens import ApiTokenAuth
from tongban.reviews.api import router as reviews_router
from tongban.supervision.api import router as supervision_router

api = NinjaAPI(
    title="通办 tongban API",
    version="1",
    description=(
        "一网通办平台接口。所有接口需登录（浏览器会话）或在 Authorization 头中提供接口令牌"
        "（Bearer，由 tongban token create 生成），返回的数据按调用者的角色范围限定。"
    ),
    auth=[ApiTokenAuth(), django_auth],
    urls_namespace="api",
)
api.add_router("/org", org_router)
api.add_router("", catalog_router)
api.add_router("", cases_router)
api.add_router("", reviews_router)
api.add_router("/supervision", supervision_router)
api.add_router("/metrics", metrics_router)


# --- errors: JSON everywhere, in Chinese -------------------------------------------------------
# {"detail": "…"} always; a 422 adds {"errors": {field: [messages]}} so a client can show each
# message next to its field. Nested fields are dotted ("applicant.id_number").


def _sentences(messages: list[str]) -> str:
    return "".join(m if m.endswith(("。", "！", "？")) else f"{m}。" for m in messages)


# ninja's own English messages, said in Chinese; any other HttpError message is already ours.
_NINJA_MESSAGES = {
    "Unauthorized": gettext_lazy("请先登录，或在 Authorization 头中提供有效的接口令牌。"),
    "Forbidden": gettext_lazy("您无权进行此操作。"),
    "CSRF check Failed": gettext_lazy("CSRF 校验失败：请刷新页面后重试；程序调用请使用接口令牌。"),
    "Too many requests.": gettext_lazy("请求过于频繁，请稍后再试。"),
}


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    message = str(exc)
    if message.startswith("Cannot parse request body"):
        message = _("请求内容不是有效的 JSON。")
    else:
        message = str(_NINJA_MESSAGES.get(message, message))
    return api.create_response(request, {"detail": message}, status=exc.status_code)


@api.exception_handler(Exception)
def _server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    if settings.DEBUG:
        raise exc  # Django's debug page shows the traceback
    # Logged where Django logs its own 500s, so the same alerts fire; the caller gets JSON.
    logging.getLogger("django.request").error(
        "Internal Server Error: %s", request.path, exc_info=exc, extra={"status_code": 500}
    )
    return api.create_response(
        request, {"detail": _("服务器内部错误，请稍后重试；问题已记录。")}, status=500
    )


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"detail": _("未找到请求的对象。")}, status=404)


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return api.create_response(request, {"detail": _("请求内容过大。")}, status=413)


# Django's own refusals keep their status codes, as they had before the catch-all above.
@api.exception_handler(PermissionDenied)
def _django_forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(request, {"detail": _("您无权进行此操作。")}, status=403)


@api.exception_handler(SuspiciousOperation)
def _suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
    return api.create_response(request, {"detail": _("请求无效。")}, status=400)


@api.exception_handler(PermissionDeniedError)
def _forbidden(request: HttpRequest, exc: PermissionDeniedError) -> HttpResponse:
    # Only reached for objects the caller may see: routers answer 404 for the others first.
    return api.create_response(request, {"detail": str(exc)}, status=403)


@api.exception_handler(CaseStateError)
def _conflict(request: HttpRequest, exc: CaseStateError) -> HttpResponse:
    # Usually someone else acted first: the message tells the caller to look again.
    return api.create_response(request, {"detail": _sentences(exc.messages)}, status=409)


@api.exception_handler(ServiceValidationError)
def _invalid(request: HttpRequest, exc: ServiceValidationError) -> HttpResponse:
    # A message about no single field goes under "__all__", as Django's forms put it.
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    body = {"detail": _sentences(exc.messages), "errors": errors}
    return api.create_response(request, body, status=422)


def _schema_message(error: dict[str, Any]) -> str:
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    if kind == "missing":
        return _("此项为必填项。")
    if kind.startswith("int_") or kind == "int_type":
        return _("请填写整数。")
    if kind.startswith("bool_"):
        return _("请填写 true 或 false。")
    if kind.startswith(("date_", "datetime_")):
        return _("请填写日期，格式为 YYYY-MM-DD。")
    if kind == "string_type":
        return _("请填写文字。")
    if kind == "string_too_long":
        return _("最多 %(n)s 个字符。") % {"n": ctx.get("max_length")}
    if kind == "too_long":
        return _("最多 %(n)s 项。") % {"n": ctx.get("max_length")}
    if kind in ("greater_than_equal", "greater_than"):
        return _("不能小于 %(n)s。") % {"n": ctx.get("ge", ctx.get("gt"))}
    if kind in ("less_than_equal", "less_than"):
        return _("不能大于 %(n)s。") % {"n": ctx.get("le", ctx.get("lt"))}
    if kind in ("literal_error", "enum"):
        return _("可选值：%(values)s。") % {"values": ctx.get("expected", "")}
    if kind in ("list_type", "tuple_type"):
        return _("应为列表。")
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return _("应为 JSON 对象。")
    return _("格式不正确。")


# Pydantic names the member of a union it tried ("item.int"); the caller only knows "item".
_UNION_MEMBERS = frozenset({"int", "str", "bool", "float", "list", "dict"})


def _schema_field(loc: list[Any], names: set[str]) -> str:
    parts = [str(p) for p in loc[1:]]  # loc[0] is where it came from: body, query, path, file
    if parts and parts[0] in names and len(parts) > 1:
        parts = parts[1:]  # the handler's parameter name, which the caller never sees
    while len(parts) > 1 and (parts[-1] in _UNION_MEMBERS or "[" in parts[-1]):
        parts.pop()
    return ".".join(parts) or "__all__"


@api.exception_handler(SchemaValidationError)
def _schema_invalid(request: HttpRequest, exc: SchemaValidationError) -> HttpResponse:
    names = {"payload", "params", "data"}
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        message = _schema_message(error)
        messages = errors.setdefault(_schema_field(list(error.get("loc", ())), names), [])
        if message not in messages:
            messages.append(message)
    detail = _("请求内容有误：") + "；".join(f"{k} {' '.join(v)}" for k, v in errors.items())
    return api.create_response(request, {"detail": detail, "errors": errors}, status=422)
