"""Catalogue pages: search. Thin: translate the request, call selectors or services, render."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.views.decorators.http import require_GET

from tongban.catalog import search as catalog_search


@require_GET
def search_page(request: HttpRequest) -> HttpResponse:
    """Public: anyone looking for an item types what they want in their own words."""
    query = request.GET.get("q", "").strip()[: catalog_search.MAX_QUERY_LENGTH]
    region_code = catalog_search.search_region_code(request.GET.get("region"))
    results = catalog_search.search(query, region=region_code) if query else []
    regions = catalog_search.search_regions(current=region_code)
    region = next((r for r in regions if r.code == region_code), None)
    context = {
        "query": query,
        "results": results,
        "region": region,
        "regions": regions,
        "suggestions": catalog_search.search_suggestions() if query and not results else [],
    }
    template = "catalog/search/page.html"
    if getattr(request, "htmx", False) and not request.htmx.boosted:  # type: ignore[attr-defined]
        template += "#results"
    return render(request, template, context)


urlpatterns: list[URLPattern] = [path("", search_page, name="search")]
