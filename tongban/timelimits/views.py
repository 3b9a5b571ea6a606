from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tongban.web.decorators import staff_required


@staff_required()
def calendar_page(request: HttpRequest) -> HttpResponse:
    return render(request, "web/base.html", {"title": "工作日历"})
