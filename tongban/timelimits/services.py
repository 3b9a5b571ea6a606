"""Every write to the holiday tables: a day set or removed by hand, and a State Council notice imported.

Each function is one transaction: it checks the actor's permission, validates with Chinese messages
that name the field, writes, appends an event to the log and replaces the calendar revision token so
that every process rebuilds its cached calendars (see selectors.calendar_for). `actor=None` is the
system itself (the `tongban calendar` command run by the server's operator): it is not checked.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.core.services import event_append
from tongban.org.models import Region, RegionLevel
from tongban.org.services import PermissionDeniedError

from . import permissions, selectors
from .models import CalendarDay, CalendarRevision, CalendarYear, DayKind, DaySource

WEEKDAY_NAMES = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")


def _calendar_changed() -> None:
    CalendarRevision.objects.update_or_create(
        pk=1, defaults={"token": uuid.uuid4().hex, "changed_at": timezone.now()}
    )
    selectors.calendar_cache_forget()


def _region_label(region: Region | None) -> str:
    return region.name if region is not None else _("全国")


def _check_may_edit(actor: Any, region: Region | None) -> None:
    if actor is not None and not permissions.can_edit_region_days(actor, region):
        raise PermissionDeniedError(
            _("您无权修改%(region)s的工作日历。") % {"region": _region_label(region)}
        )


def _day_payload(day: CalendarDay) -> dict[str, Any]:
    return {
        "region": day.region.code if day.region is not None else "",
        "date": day.date.isoformat(),
        "kind": day.kind,
        "name": day.name,
        "note": day.note,
    }


def calendar_day_set(
    *,
    actor: Any,
    region: Region | None,
    date: date,
    kind: str,
    name: str,
    note: str = "",
) -> CalendarDay:
    """Enter a day off or a 调休 working day by hand, for a region and the regions below it (or
    nationally when region is None). A day already entered for that region and date is replaced."""
    _check_may_edit(actor, region)
    name, note = name.strip(), note.strip()
    errors: dict[str, str] = {}
    if kind not in DayKind.values:
        errors["kind"] = _("请选择放假或调休上班。")
    elif kind == DayKind.WORKDAY and date.weekday() < 5:
        errors["date"] = _(
            "调休上班日只能是星期六或星期日：%(y)d年%(m)d月%(d)d日是%(weekday)s，本来就要上班。"
        ) % {
            "y": date.year,
            "m": date.month,
            "d": date.day,
            "weekday": WEEKDAY_NAMES[date.weekday()],
        }
    if not name:
        errors["name"] = _("请填写名称，例如：防汛救灾、泼水节。")
    if region is not None and region.level == RegionLevel.VILLAGE:
        errors["region"] = _("村（社区）沿用所在乡镇的工作日历，请选择乡镇或以上区划。")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        day = CalendarDay.objects.select_for_update().filter(region=region, date=date).first()
        previous = _day_payload(day) if day is not None else None
        if day is None:
            day = CalendarDay(region=region, date=date)
        day.kind, day.name, day.note = kind, name, note
        day.source = DaySource.MANUAL
        day.created_at = timezone.now()
        day.created_by = actor
        day.full_clean()
        day.save()
        event_append(
            subject=day,
            kind="calendar.day_set",
            actor=actor,
            payload={**_day_payload(day), "previous": previous},
        )
        _calendar_changed()
    return day


def calendar_day_remove(*, actor: Any, day: CalendarDay) -> None:
    """Remove a day entered by hand. Seeded and imported national days change only by importing
    the year's notice again."""
    _check_may_edit(actor, day.region)
    if day.source != DaySource.MANUAL:
        raise ValidationError(
            _("%(date)s 来自%(source)s，只能通过重新导入该年的通知修改。")
            % {
                "date": f"{day.date.year}年{day.date.month}月{day.date.day}日",
                "source": day.get_source_display(),
            }
        )
    with transaction.atomic():
        event_append(
            subject=day, kind="calendar.day_removed", actor=actor, payload=_day_payload(day)
        )
        day.delete()
        _calendar_changed()


@dataclass(frozen=True)
class ImportResult:
    year: int
    days_off: int
    make_up_workdays: int
    replaced_source: str  # how the year was covered before ("内置数据", "国务院通知"), or ""
    replaced_rows: int
    kept_manual_days: int

    @property
    def summary(self) -> str:
        text = _("已导入%(year)d年节假日安排：%(off)d 天放假，%(work)d 天调休上班。") % {
            "year": self.year,
            "off": self.days_off,
            "work": self.make_up_workdays,
        }
        if self.replaced_source:
            text += _("该年原有的安排（%(source)s，%(n)d 条记录）已被替换。") % {
                "n": self.replaced_rows,
                "source": self.replaced_source,
            }
        elif self.replaced_rows:
            text += _("同日期的 %(n)d 条原有记录已被替换。") % {"n": self.replaced_rows}
        if self.kept_manual_days:
            text += _("手工录入的 %(n)d 天全国安排保留未变。") % {"n": self.kept_manual_days}
        return text


def calendar_notice_import(*, actor: Any, text: str) -> ImportResult:
    """Import the State Council's notice for a year. Nothing is saved when any sentence cannot be
    read (the error quotes it). A year already in the tables has its national seeded and imported
    rows replaced by the notice's; national days entered by hand on other dates are kept."""
    if actor is not None and not permissions.can_import_notice(actor):
        raise PermissionDeniedError(_("您无权导入节假日安排通知。"))
    notice = selectors.notice_read(text=text)
    with transaction.atomic():
        year_row = CalendarYear.objects.select_for_update().filter(year=notice.year).first()
        replaced_source = year_row.get_source_display() if year_row else ""
        replaced = selectors.national_rows_replaced_by(notice)
        replaced_rows = replaced.count()
        replaced.delete()
        kept = CalendarDay.objects.filter(
            region__isnull=True, date__year=notice.year, source=DaySource.MANUAL
        ).count()
        now = timezone.now()
        CalendarDay.objects.bulk_create(
            CalendarDay(
                date=day,
                kind=entry.kind,
                name=entry.name,
                source=DaySource.NOTICE,
                created_at=now,
                created_by=actor,
            )
            for day, entry in sorted(selectors.notice_entries(notice).items())
        )
        if year_row is None:
            year_row = CalendarYear(year=notice.year)
        year_row.source = DaySource.NOTICE
        year_row.recorded_at = now
        year_row.recorded_by = actor
        year_row.save()
        result = ImportResult(
            year=notice.year,
            days_off=sum(1 for d in notice.days_off if d.year == notice.year),
            make_up_workdays=sum(1 for d in notice.make_up_workdays if d.year == notice.year),
            replaced_source=replaced_source,
            replaced_rows=replaced_rows,
            kept_manual_days=kept,
        )
        event_append(
            subject=year_row,
            kind="calendar.notice_imported",
            actor=actor,
            payload={
                "year": notice.year,
                "days_off": sorted(d.isoformat() for d in notice.days_off),
                "make_up_workdays": sorted(d.isoformat() for d in notice.make_up_workdays),
                "replaced_source": replaced_source,
                "replaced_rows": replaced_rows,
                "text": text,
            },
        )
        _calendar_changed()
    return result
