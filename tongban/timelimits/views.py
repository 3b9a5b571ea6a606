"""The calendar pages: the year for every staff member, importing the State Council's notice, and
the days a region enters by hand. Views translate requests; selectors and services decide."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tongban.org.permissions import assignments_of
from tongban.org.services import PermissionDeniedError
from tongban.web.decorators import staff_required
from tongban.web.forms import add_service_errors

from . import permissions, selectors, services
from .forms import NATIONAL, CalendarDayForm, CalendarViewForm, NoticeImportForm
from .models import CalendarDay

# The years a calendar page can show: wide enough for any case's history and limits.
FIRST_YEAR, LAST_YEAR = 1949, 2199


def _year_choices(today_year: int, asked: str) -> list[int]:
    years = set(selectors.covered_years()) | {today_year - 1, today_year, today_year + 1}
    if asked.isdigit() and FIRST_YEAR <= int(asked) <= LAST_YEAR:
        years.add(int(asked))
    return sorted(years, reverse=True)


def _default_region(request: HttpRequest) -> str:
    """The region of the viewer's first assignment; a village uses its town's calendar."""
    assignments = assignments_of(request.user)
    return assignments[0].region.code[:9] if assignments else NATIONAL


@staff_required()
def calendar_page(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    regions = permissions.calendar_regions_visible_to(request.user)
    data = {
        "year": request.GET.get("year") or str(today.year),
        "region": request.GET.get("region", _default_region(request)),
    }
    form = CalendarViewForm(data, years=_year_choices(today.year, data["year"]), regions=regions)
    if not form.is_valid():
        # A region outside the viewer's scope is not theirs to know about; a bad year is a typo.
        if "region" in form.errors:
            raise Http404
        return redirect("timelimits:calendar")
    year = form.cleaned_data["year"]
    code = form.cleaned_data["region"]
    region = regions.get(code=code) if code else None
    context = {
        "form": form,
        "view": selectors.calendar_year(year=year, region=region, today=today),
        "region": region,
        "uncovered": selectors.uncovered_years_to_announce(shown_year=year, today=today),
        "previous_year": year - 1,
        "next_year": year + 1,
        "region_code": code,
        "can_import": permissions.can_import_notice(request.user),
        "can_edit_days": permissions.can_edit_any_days(request.user),
    }
    template = "timelimits/calendar.html"
    if getattr(request, "htmx", False):
        template += "#year"
    return render(request, template, context)


@staff_required()
@require_http_methods(["GET", "POST"])
def notice_import(request: HttpRequest) -> HttpResponse:
    """预览 reads the pasted notice; 确认导入 posts the same text again and the service re-reads it."""
    if not permissions.can_import_notice(request.user):
        raise PermissionDenied
    form = NoticeImportForm(request.POST or None)
    preview = None
    if request.method == "POST" and form.is_valid():
        text = form.cleaned_data["text"]
        try:
            if request.POST.get("action") == "confirm":
                result = services.calendar_notice_import(actor=request.user, text=text)
                messages.success(request, result.summary)
                query = urlencode({"year": str(result.year), "region": NATIONAL})
                return redirect(f"{reverse('timelimits:calendar')}?{query}")
            preview = selectors.calendar_notice_preview(text=text)
        except ValidationError as exc:
            add_service_errors(form, exc)
        except PermissionDeniedError as exc:
            raise PermissionDenied(str(exc)) from exc
    return render(request, "timelimits/notice_import.html", {"form": form, "preview": preview})


@staff_required()
@require_http_methods(["GET", "POST"])
def day_list(request: HttpRequest) -> HttpResponse:
    """Days off and 调休 working days entered by hand, and the form to add one."""
    user = request.user
    if not permissions.can_edit_any_days(user):
        raise PermissionDenied
    today = timezone.localdate()
    year_text = request.GET.get("year", "")
    year = int(year_text) if year_text.isdigit() and len(year_text) == 4 else today.year
    regions = permissions.calendar_regions_editable_by(user)
    first = regions.first()
    form = CalendarDayForm(
        request.POST or None,
        regions=regions,
        national=permissions.can_import_notice(user),
        initial={"region": first.code if first else NATIONAL},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            day = services.calendar_day_set(
                actor=user,
                region=data["region"],
                date=data["date"],
                kind=data["kind"],
                name=data["name"],
                note=data["note"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except PermissionDeniedError as exc:
            form.add_error("region", str(exc))
        else:
            messages.success(request, _("已保存：%(day)s。") % {"day": _day_text(day)})
            return redirect(f"{reverse('timelimits:days')}?{urlencode({'year': day.date.year})}")
    context = {
        "form": form,
        "year": year,
        "days": selectors.calendar_day_list_manual(actor=user, year=year),
        "previous_year": year - 1,
        "next_year": year + 1,
    }
    return render(request, "timelimits/days.html", context)


@staff_required()
@require_POST
def day_remove(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    if not permissions.can_edit_any_days(user):
        raise PermissionDenied
    day = get_object_or_404(selectors.calendar_day_list_manual(actor=user), pk=pk)
    try:
        services.calendar_day_remove(actor=user, day=day)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except PermissionDeniedError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已删除：%(day)s。") % {"day": _day_text(day)})
    return redirect(f"{reverse('timelimits:days')}?{urlencode({'year': day.date.year})}")


def _day_text(day: CalendarDay) -> str:
    where = day.region.name if day.region is not None else _("全国")
    return _("%(where)s %(y)d年%(m)d月%(d)d日 %(kind)s %(name)s") % {
        "where": where,
        "y": day.date.year,
        "m": day.date.month,
        "d": day.date.day,
        "kind": day.get_kind_display(),
        "name": day.name,
    }
