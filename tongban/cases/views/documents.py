"""Documents of a case: the notices (文书) as a list and as PDFs, and the files handed in.

Thin: find the case (or upload) through the selectors that scope what the viewer may see, answer
404 for anything outside that scope or not issued yet, and let `cases.notices` render.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from tongban.core.pdf import attachment_header

from .. import notices, selectors
from ..models import Case


def _visible_case(request: HttpRequest, case_id: int) -> Case:
    case = selectors.case_get_visible(actor=request.user, case_id=case_id)
    if case is None:
        raise Http404
    return case


@require_safe
@login_required
def notice_list(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _visible_case(request, case_id)
    rows = [
        {
            "notice": notice,
            "path": notice.path(case),
            "issued_on": notices.date_text(notice.issued_at),
        }
        for notice in notices.notice_kinds_for(case)
    ]
    return render(
        request,
        "cases/notices/list.html",
        {"case": case, "rows": rows, "title": _("办件文书")},
    )


@require_safe
@login_required
@never_cache  # a notice follows the case: a later extension moves the dates it prints
def notice_pdf(
    request: HttpRequest, case_id: int, kind: str, index: int | None = None
) -> HttpResponse:
    case = _visible_case(request, case_id)
    notice = notices.notice_find(case=case, kind=kind, index=index)
    if notice is None:
        raise Http404
    pdf = notices.notice_pdf(
        case=case,
        kind=kind,
        index=index,
        tracking_url=request.build_absolute_uri(notices.tracking_path(case)),
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    name, fallback = notice.filenames(case)
    response["Content-Disposition"] = attachment_header(name, fallback=fallback)
    return response


@require_safe
@login_required
@never_cache
def upload_file(request: HttpRequest, upload_id: str) -> FileResponse:
    upload = selectors.upload_get_visible(actor=request.user, upload_id=upload_id)
    if upload is None:
        raise Http404
    # Always a download with the type sniffed at upload: a browser never renders a handed-in
    # file inside the site, whatever it contains.
    response = FileResponse(
        upload.file.open("rb"),
        as_attachment=True,
        filename=upload.original_name,
        content_type=upload.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
