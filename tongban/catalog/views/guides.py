"""Catalogue pages: public guides (办事指南) of items and bundles, as pages and PDFs. No sign-in.

Thin: look the guide up in `catalog.guides`, answer 404 when there is none, render.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path, register_converter
from django.urls.converters import StringConverter
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from tongban.core.pdf import attachment_header

from .. import guides


class LocalCodeConverter(StringConverter):
    """A local code; the other catalogue pages under /items/ use these words, which are not codes."""

    RESERVED = frozenset({"audit", "bundles", "exchange", "search"})

    def to_python(self, value: str) -> str:
        if value in self.RESERVED:
            raise ValueError(value)  # not a match: Django tries the next pattern
        return value


register_converter(LocalCodeConverter, "local_code")


def _item_guide(request: HttpRequest, local_code: str) -> guides.ItemGuide:
    guide = guides.item_guide_of(local_code=local_code, region_code=request.GET.get("region", ""))
    if guide is None:
        raise Http404
    return guide


def _bundle_guide(code: str) -> guides.BundleGuide:
    guide = guides.bundle_guide_of(code=code)
    if guide is None:
        raise Http404
    return guide


def _page(
    request: HttpRequest, template: str, guide: guides.ItemGuide | guides.BundleGuide
) -> HttpResponse:
    page_url = request.build_absolute_uri(guide.page_path)
    context = {"guide": guide, "page_url": page_url, "qr_svg": guides.guide_qr_svg(page_url)}
    return render(request, template, context)


def _pdf(request: HttpRequest, guide: guides.ItemGuide | guides.BundleGuide) -> HttpResponse:
    pdf = guides.guide_pdf(guide=guide, page_url=request.build_absolute_uri(guide.page_path))
    response = HttpResponse(pdf, content_type="application/pdf")
    name, fallback = guide.filenames
    response["Content-Disposition"] = attachment_header(name, fallback=fallback)
    return response


@require_safe
def item_guide(request: HttpRequest, local_code: str) -> HttpResponse:
    return _page(request, "catalog/guides/item.html", _item_guide(request, local_code))


@require_safe
@never_cache  # always the current published version
def item_guide_pdf(request: HttpRequest, local_code: str) -> HttpResponse:
    return _pdf(request, _item_guide(request, local_code))


@require_safe
def material_file(
    request: HttpRequest, local_code: str, material_id: int, kind: str
) -> FileResponse:
    guide = _item_guide(request, local_code)
    if kind not in ("blank-form", "sample"):
        raise Http404
    file = guides.material_file_of(
        guide=guide,
        material_id=material_id,
        kind="blank-form" if kind == "blank-form" else "sample",
    )
    if file is None:
        raise Http404
    return FileResponse(
        file.open("rb"), as_attachment=True, filename=PurePosixPath(file.name or "").name
    )


@require_safe
def bundle_guide(request: HttpRequest, code: str) -> HttpResponse:
    return _page(request, "catalog/guides/bundle.html", _bundle_guide(code))


@require_safe
@never_cache
def bundle_guide_pdf(request: HttpRequest, code: str) -> HttpResponse:
    return _pdf(request, _bundle_guide(code))


urlpatterns: list[URLPattern] = [
    path("bundles/<str:code>/", bundle_guide, name="bundle_guide"),
    path("bundles/<str:code>/guide.pdf", bundle_guide_pdf, name="bundle_guide_pdf"),
    path("<local_code:local_code>/", item_guide, name="item_guide"),
    path("<local_code:local_code>/guide.pdf", item_guide_pdf, name="item_guide_pdf"),
    path(
        "<local_code:local_code>/materials/<int:material_id>/<str:kind>/",
        material_file,
        name="material_file",
    ),
]
