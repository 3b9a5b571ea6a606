"""Catalogue pages: Excel exchange. Download the catalogue of one's regions; upload a workbook, read
the preview, confirm. Thin: translate the request, call `catalog.xlsx`, render.

The uploaded file waits in the default storage under a random name known only to the uploader's
session; confirming re-reads and re-checks that file, never the preview shown before.
"""

from __future__ import annotations

import datetime as dt
import io
import secrets

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from tongban.org.models import Role
from tongban.web.decorators import staff_required

from .. import xlsx

UPLOAD_DIR = "catalog-imports"
SESSION_KEY = "catalog_import_upload"
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
STALE_AFTER = dt.timedelta(days=1)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _stored_name(token: str) -> str:
    return f"{UPLOAD_DIR}/{token}.xlsx"


def _remove_stale_uploads() -> None:
    """Uploads that were previewed and never confirmed are removed after a day."""
    try:
        _dirs, files = default_storage.listdir(UPLOAD_DIR)
    except (FileNotFoundError, NotImplementedError):
        return
    limit = timezone.now() - STALE_AFTER
    for name in files:
        stored = f"{UPLOAD_DIR}/{name}"
        try:
            if default_storage.get_modified_time(stored) < limit:
                default_storage.delete(stored)
        except (FileNotFoundError, NotImplementedError):
            continue


@staff_required(Role.CATALOGUE_ADMIN, Role.SYSADMIN)
@require_http_methods(["GET", "POST"])
def exchange_page(request: HttpRequest) -> HttpResponse:
    context: dict[str, object] = {"max_mb": MAX_UPLOAD_BYTES // (1024 * 1024)}
    action = request.POST.get("action") if request.method == "POST" else None
    if action == "preview":
        context.update(_preview(request))
    elif action == "confirm":
        context.update(_confirm(request))
    return render(request, "catalog/exchange/page.html", context)


def _preview(request: HttpRequest) -> dict[str, object]:
    upload = request.FILES.get("file")
    if upload is None:
        return {"upload_error": "请选择要导入的 Excel 工作簿（.xlsx）。"}
    if not (upload.name or "").lower().endswith(".xlsx"):
        return {"upload_error": "只能导入 Excel 工作簿（.xlsx）文件。"}
    if (upload.size or 0) > MAX_UPLOAD_BYTES:
        return {"upload_error": f"文件超过 {MAX_UPLOAD_BYTES // (1024 * 1024)} MB，请拆分后导入。"}
    _remove_stale_uploads()
    previous = request.session.pop(SESSION_KEY, None)
    if previous:
        default_storage.delete(_stored_name(previous))
    data = upload.read()
    report = xlsx.catalog_import(actor=request.user, file=data, dry_run=True)
    context: dict[str, object] = {"report": report, "file_name": upload.name}
    if report.ok:
        token = secrets.token_urlsafe(24)
        default_storage.save(_stored_name(token), ContentFile(data))
        request.session[SESSION_KEY] = token
        context["token"] = token
    return context


def _confirm(request: HttpRequest) -> dict[str, object]:
    token = request.session.get(SESSION_KEY)
    name = _stored_name(token) if token else ""
    if not token or request.POST.get("token") != token or not default_storage.exists(name):
        return {"upload_error": "上传的文件已失效，请重新上传后预览。"}
    with default_storage.open(name, "rb") as stored:
        data = stored.read()
    report = xlsx.catalog_import(actor=request.user, file=data)
    if report.saved:
        del request.session[SESSION_KEY]
        default_storage.delete(name)
    return {"report": report, "confirmed": True}


@staff_required(Role.CATALOGUE_ADMIN, Role.SYSADMIN)
@require_GET
def exchange_download(request: HttpRequest) -> FileResponse:
    versions = xlsx.versions_exportable_by(actor=request.user)
    data = xlsx.catalog_export_bytes(versions=versions)
    filename = f"事项目录-{timezone.localdate():%Y%m%d}.xlsx"
    return FileResponse(
        io.BytesIO(data), as_attachment=True, filename=filename, content_type=XLSX_TYPE
    )


urlpatterns = [
    path("", exchange_page, name="exchange"),
    path("download/", exchange_download, name="exchange_download"),
]
