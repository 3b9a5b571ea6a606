"""Reads of the working-day calendar: the calendar in force for a region, a year laid out as month
grids for pages and the terminal, and a State Council notice read into a preview before import.

Inheritance. A region's calendar is the national rows, then each ancestor's rows, then its own, and
for any one date the most specific row wins: a county's day off applies to its towns, and a
region's 调休 working day (a Saturday or Sunday) can take back a weekend day that a level above gave
off. Covered years are national (`CalendarYear`): a region's own days never make a year "covered".

Caching. `calendar_for` keeps the calendars it builds in this process under the token of
`CalendarRevision`, which every service that changes the tables replaces in its own transaction.
Each call reads that one row (a primary-key look-up) and rebuilds only when the token differs, so
every process sees a change as soon as it is committed, without a shared cache server. A random
token, not a counter: a change rolled back after this process cached it can never come back under
a token that a committed change then uses. When the row is missing (an emptied test database)
nothing is cached.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.org.models import Region

from .calendar import WorkCalendar
from .models import CalendarDay, CalendarRevision, CalendarYear, DayKind, DaySource
from .notices import NoticeParseError, ParsedNotice, parse_notice
from .permissions import calendar_regions_editable_by, can_import_notice, region_lineage_codes

MONTH_NAMES = (
    "一月",
    "二月",
    "三月",
    "四月",
    "五月",
    "六月",
    "七月",
    "八月",
    "九月",
    "十月",
    "十一月",
    "十二月",
)
WEEKDAY_NAMES = ("一", "二", "三", "四", "五", "六", "日")


@dataclass(frozen=True)
class DayEntry:
    """What the tables say about one date, after inheritance."""

    kind: str
    name: str
    source: str
    region_name: str = ""  # the region whose own row this is; "" for a national row

    @property
    def day_off(self) -> bool:
        return self.kind == DayKind.DAY_OFF


# --- the calendar in force ------------------------------------------------------------------------


@dataclass
class _Cache:
    """The calendars built under one revision token. A calendar is keyed by the regions of the
    lineage that have days of their own, so the towns of a county without local days share one
    calendar with the nation, and memory grows with the regions that have days, not with the tree."""

    token: str | None
    regions_with_days: frozenset[str]
    calendars: dict[tuple[str, ...], WorkCalendar] = field(default_factory=dict)
    checked_at: float = 0.0


_cache: _Cache | None = None


def calendar_cache_forget() -> None:
    """Drop this process's calendars: the services call it after an edit, so the editing process
    sees its change at once (others within CALENDAR_CACHE_SECONDS)."""
    global _cache
    _cache = None


def _revision_token() -> str | None:
    return CalendarRevision.objects.filter(pk=1).values_list("token", flat=True).first()


def covered_years() -> frozenset[int]:
    return frozenset(CalendarYear.objects.values_list("year", flat=True))


def _entries(
    codes: Iterable[str], first: date | None = None, last: date | None = None
) -> dict[date, DayEntry]:
    """The national rows and those of the given regions, the most specific row winning each date."""
    rows = CalendarDay.objects.filter(Q(region__isnull=True) | Q(region__code__in=list(codes)))
    if first is not None and last is not None:
        rows = rows.filter(date__gte=first, date__lte=last)
    entries: dict[date, DayEntry] = {}
    # National rows first, then ever longer codes: the most specific row for a date is written last.
    ordered = sorted(
        rows.values_list("date", "kind", "name", "source", "region__code", "region__name"),
        key=lambda row: len(row[4] or ""),
    )
    for day, kind, name, source, _code, region_name in ordered:
        entries[day] = DayEntry(kind=kind, name=name, source=source, region_name=region_name or "")
    return entries


def _lineage(region: Region | None) -> list[str]:
    return region_lineage_codes(region.code) if region is not None else []


def _work_calendar(entries: Mapping[date, DayEntry], years: Iterable[int]) -> WorkCalendar:
    return WorkCalendar(
        days_off=[d for d, e in entries.items() if e.kind == DayKind.DAY_OFF],
        extra_workdays=[d for d, e in entries.items() if e.kind == DayKind.WORKDAY],
        covered_years=years,
        names={d: e.name for d, e in entries.items() if e.name},
    )


def calendar_for(region: Region | None = None) -> WorkCalendar:
    """The working-day calendar in force for a region (national when None), with holiday names."""
    global _cache
    cache = _cache
    fresh_for = settings.CALENDAR_CACHE_SECONDS
    now = time.monotonic()
    if cache is not None and fresh_for and now - cache.checked_at < fresh_for:
        # Checked moments ago: a page that colours fifty rows asks the database once, not fifty
        # times. Another process's edit is seen within CALENDAR_CACHE_SECONDS.
        token = cache.token
    else:
        token = _revision_token()
        if cache is not None and cache.token == token:
            cache.checked_at = now
    if token is None or cache is None or cache.token != token:
        with_days = CalendarDay.objects.filter(region__isnull=False).values_list(
            "region__code", flat=True
        )
        cache = _Cache(token=token, regions_with_days=frozenset(with_days), checked_at=now)
        if token is not None:
            _cache = cache
    key = tuple(code for code in _lineage(region) if code in cache.regions_with_days)
    calendar = cache.calendars.get(key)
    if calendar is None:
        calendar = _work_calendar(_entries(key), covered_years())
        cache.calendars[key] = calendar
    return calendar


# --- a year as month grids ---------------------------------------------------------------------


@dataclass(frozen=True)
class DayCell:
    date: date
    workday: bool
    entry: DayEntry | None
    changed: bool = False  # differs from the tables (a notice's preview)
    today: bool = False

    @property
    def weekend(self) -> bool:
        return self.date.weekday() >= 5

    @property
    def mark(self) -> str:
        if self.entry is None:
            return ""
        return _("休") if self.entry.day_off else _("班")

    @property
    def label(self) -> str:
        """What the day is, in a few words: "国庆节 休", "调休上班"."""
        if self.entry is None:
            return ""
        if self.entry.day_off:
            return f"{self.entry.name} {_('休')}".strip()
        return _("调休上班")

    @property
    def description(self) -> str:
        """The full sentence for a tooltip or a screen reader."""
        text = _("%(y)d年%(m)d月%(d)d日 星期%(w)s")
        parts = [
            text
            % {
                "y": self.date.year,
                "m": self.date.month,
                "d": self.date.day,
                "w": _weekday(self.date),
            }
        ]
        if self.entry is not None:
            if self.entry.day_off:
                parts.append(self.label)
            else:
                parts.append(
                    f"{self.entry.name}{_('调休上班')}" if self.entry.name else _("调休上班")
                )
            if self.entry.region_name:
                parts.append(_("（%(region)s）") % {"region": self.entry.region_name})
        elif not self.workday:
            parts.append(_("休息日"))
        if self.changed:
            parts.append(_("（有变动）"))
        return " ".join(parts)


@dataclass(frozen=True)
class MonthNote:
    """One line under a month: "国庆节 休：10月1日—7日"."""

    text: str
    day_off: bool
    local: bool


@dataclass(frozen=True)
class MonthView:
    month: int
    title: str
    weeks: list[list[DayCell | None]]
    notes: list[MonthNote]


@dataclass(frozen=True)
class YearView:
    year: int
    covered: bool
    months: list[MonthView]
    days_off: int
    make_up_workdays: int
    local_days: int
    changed_days: int
    covered_by: str = ""  # "内置数据" or "国务院通知" for a covered year

    @property
    def has_today(self) -> bool:
        return any(c is not None and c.today for m in self.months for w in m.weeks for c in w)

    @property
    def weekday_names(self) -> tuple[str, ...]:
        return tuple(_(w) for w in WEEKDAY_NAMES)

    @property
    def month_rows(self) -> list[list[MonthView]]:
        """The months three to a row, for the terminal."""
        return [self.months[i : i + 3] for i in range(0, 12, 3)]


def _weekday(d: date) -> str:
    return WEEKDAY_NAMES[d.weekday()]


def _month_notes(cells: list[DayCell]) -> list[MonthNote]:
    notes: list[MonthNote] = []
    run: list[DayCell] = []

    def close() -> None:
        if not run:
            return
        entry = run[0].entry
        assert entry is not None
        first, last = run[0].date, run[-1].date
        when = f"{first.month}月{first.day}日"
        if last != first:
            when += f"—{last.day}日"
        what = (
            f"{entry.name} {_('休')}".strip()
            if entry.day_off
            else (_("调休上班（%(name)s）") % {"name": entry.name} if entry.name else _("调休上班"))
        )
        where = _("（%(region)s）") % {"region": entry.region_name} if entry.region_name else ""
        notes.append(
            MonthNote(text=f"{what}{where}：{when}", day_off=entry.day_off, local=bool(where))
        )

    for cell in cells:
        previous = run[-1] if run else None
        if (
            previous is not None
            and cell.entry == previous.entry
            and cell.date == previous.date + timedelta(days=1)
        ):
            run.append(cell)
            continue
        close()
        run = [cell] if cell.entry is not None else []
    close()
    return notes


def year_view(
    *,
    year: int,
    entries: Mapping[date, DayEntry],
    covered: bool,
    changed: frozenset[date] = frozenset(),
    today: date | None = None,
) -> YearView:
    """Lay a year out as twelve month grids, Monday first, from what the tables say about its days."""
    months = []
    for month in range(1, 13):
        first = date(year, month, 1)
        following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
        cells = []
        for ordinal in range(first.toordinal(), following.toordinal()):
            day = date.fromordinal(ordinal)
            entry = entries.get(day)
            workday = entry.kind == DayKind.WORKDAY if entry is not None else day.weekday() < 5
            cells.append(DayCell(day, workday, entry, changed=day in changed, today=day == today))
        padded: list[DayCell | None] = [None] * first.weekday()
        padded.extend(cells)
        padded.extend([None] * (-len(padded) % 7))
        weeks = [padded[i : i + 7] for i in range(0, len(padded), 7)]
        months.append(MonthView(month, _(MONTH_NAMES[month - 1]), weeks, _month_notes(cells)))
    in_year = {d: e for d, e in entries.items() if d.year == year}
    return YearView(
        year=year,
        covered=covered,
        months=months,
        days_off=sum(1 for e in in_year.values() if e.day_off),
        make_up_workdays=sum(1 for e in in_year.values() if not e.day_off),
        local_days=sum(1 for e in in_year.values() if e.region_name),
        changed_days=sum(1 for d in changed if d.year == year),
    )


def calendar_year(
    *, year: int, region: Region | None = None, today: date | None = None
) -> YearView:
    """The year as the tables have it for a region (national when None)."""
    entries = _entries(_lineage(region), date(year, 1, 1), date(year, 12, 31))
    year_row = CalendarYear.objects.filter(year=year).first()
    view = year_view(year=year, entries=entries, covered=year_row is not None, today=today)
    if year_row is None:
        return view
    return replace(view, covered_by=year_row.get_source_display())


def uncovered_years_to_announce(*, shown_year: int, today: date | None = None) -> list[int]:
    """The years a calendar page must warn about: the year shown, this year, and from November on
    (when the State Council publishes the next year's notice) the coming year."""
    today = today or timezone.localdate()
    years = {shown_year, today.year}
    if today.month >= 11:
        years.add(today.year + 1)
    return sorted(years - covered_years())


# --- reading a notice ------------------------------------------------------------------------------

# The parser explains in English (its tests rely on the wording); people read Chinese. A reason not
# listed here is shown by the generic sentence, never in English.
_REASONS: list[tuple[str, str]] = [
    (r"no numbered holiday section.*", "通知中没有编号的节日段落（如“一、元旦：……”）"),
    (
        r"the notice says (?P<a>\d+) days, the dates give (?P<b>\d+)",
        "通知写明放假 %(a)s 天，但所列日期共 %(b)s 天",
    ),
    (r"(?P<day>[\d-]+) is named more than once", "%(day)s被安排了不止一次"),
    (
        r"the working day (?P<day>[\d-]+) is a (?P<w>\S+), not a Saturday or Sunday",
        "调休上班日%(day)s是%(w)s，不是星期六或星期日",
    ),
    (
        r"the notice says 共(?P<a>\d+)天, the dates give (?P<b>\d+)",
        "通知写明共 %(a)s 天，但所列放假日期共 %(b)s 天",
    ),
    (
        r"the title is for (?P<a>\d+) but the body for (?P<b>\d+)",
        "标题写的是 %(a)s 年，正文写的是 %(b)s 年",
    ),
    (
        r"no year found.*",
        "找不到年份：标题应为“国务院办公厅关于××××年部分节假日安排的通知”，或正文中有“现将××××年……”",
    ),
    (r"days are arranged outside.*", "这一句安排了日期，但不在编号的节日段落之内"),
    (r"this sentence could not be read completely", "这一句无法完整识别"),
    (r"共N天 without days off to count", "写了“共N天”，却没有可计数的放假日期"),
    (r"two weekdays in one remark \((?P<r>.*)\)", "括号中写了两个星期（%(r)s）"),
    (r"unknown remark \((?P<r>.*)\)", "无法识别括号中的说明（%(r)s）"),
    (
        r"the range ends \((?P<b>[\d-]+)\) before it begins \((?P<a>[\d-]+)\)",
        "日期范围的结束日%(b)s早于开始日%(a)s",
    ),
    (r"(?P<day>\d+年\d+月\d+日) is not a date", "%(day)s不是有效日期"),
    (
        r"(?P<day>[\d-]+) is a (?P<w>\S+), not a (?P<s>\S+) as the notice says",
        "%(day)s是%(w)s，不是通知所写的%(s)s",
    ),
]


def _chinese_reason(reason: str) -> str:
    for pattern, template in _REASONS:
        match = re.fullmatch(pattern, reason)
        if match:
            values = {
                key: _chinese_date(value) if re.fullmatch(r"\d{4}-\d\d-\d\d", value) else value
                for key, value in match.groupdict().items()
            }
            return _(template) % values
    return _("通知无法完整识别")


def _chinese_date(iso: str) -> str:
    d = date.fromisoformat(iso)
    return f"{d.year}年{d.month}月{d.day}日"


def notice_read(*, text: str) -> ParsedNotice:
    """Read a pasted notice, or raise a ValidationError on "text" that quotes the sentence at fault."""
    if not text.strip():
        raise ValidationError({"text": _("请粘贴国务院办公厅节假日安排通知的全文。")})
    try:
        notice = parse_notice(text)
    except NoticeParseError as exc:
        reason = _chinese_reason(exc.reason)
        if exc.sentence:
            message = _("%(reason)s。问题所在：「%(sentence)s」") % {
                "reason": reason,
                "sentence": exc.sentence,
            }
        else:
            message = _("%(reason)s。") % {"reason": reason}
        raise ValidationError({"text": message}) from None
    if not 1949 <= notice.year <= 9999:
        raise ValidationError({"text": _("通知的年份 %(year)d 无效。") % {"year": notice.year}})
    return notice


def notice_entries(notice: ParsedNotice) -> dict[date, DayEntry]:
    entries = {
        d: DayEntry(kind=DayKind.DAY_OFF, name=name, source=DaySource.NOTICE)
        for d, name in notice.days_off.items()
    }
    entries.update(
        (d, DayEntry(kind=DayKind.WORKDAY, name=name, source=DaySource.NOTICE))
        for d, name in notice.make_up_workdays.items()
    )
    return entries


def national_rows_replaced_by(notice: ParsedNotice) -> QuerySet[CalendarDay]:
    """The national rows an import of this notice replaces: the year's seeded and imported rows,
    and any national row on a date the notice arranges (the notice is the authority)."""
    named = [*notice.days_off, *notice.make_up_workdays]
    return CalendarDay.objects.filter(region__isnull=True).filter(
        Q(date__year=notice.year, source__in=[DaySource.PACKAGE, DaySource.NOTICE])
        | Q(date__in=named)
    )


@dataclass(frozen=True)
class NoticePreview:
    notice: ParsedNotice
    view: YearView
    covered_by: str  # how the year is covered now ("内置数据", "国务院通知"), "" when it is not
    replaced_rows: int
    kept_manual_days: int

    @property
    def year(self) -> int:
        return self.notice.year


def calendar_notice_preview(*, text: str) -> NoticePreview:
    """What importing this notice would give: its year as month grids, the days that would change."""
    notice = notice_read(text=text)
    new = notice_entries(notice)
    first = min([date(notice.year, 1, 1), *new])
    last = date(notice.year, 12, 31)
    current = {
        d: e
        for d, e in _entries([], first, last).items()
        if e.source != DaySource.MANUAL or d in new
    }

    def arranged(entry: DayEntry | None) -> tuple[str, str] | None:
        return (entry.kind, entry.name) if entry is not None else None

    changed = frozenset(
        d for d in set(new) | set(current) if arranged(new.get(d)) != arranged(current.get(d))
    )
    year_row = CalendarYear.objects.filter(year=notice.year).first()
    replaced = national_rows_replaced_by(notice)
    kept = (
        CalendarDay.objects.filter(
            region__isnull=True, date__year=notice.year, source=DaySource.MANUAL
        )
        .exclude(pk__in=replaced.values("pk"))
        .count()
    )
    return NoticePreview(
        notice=notice,
        view=year_view(year=notice.year, entries=new, covered=True, changed=changed),
        covered_by=year_row.get_source_display() if year_row else "",
        replaced_rows=replaced.count(),
        kept_manual_days=kept,
    )


# --- days entered by hand --------------------------------------------------------------------------


def calendar_day_list_manual(*, actor: Any, year: int | None = None) -> QuerySet[CalendarDay]:
    """The days entered by hand (in a year, if given) that the actor may change: national ones for
    those who import notices, and those of the regions in their subtree."""
    scope = Q(region__in=calendar_regions_editable_by(actor))
    if can_import_notice(actor):
        scope |= Q(region__isnull=True)
    days = CalendarDay.objects.filter(scope, source=DaySource.MANUAL)
    if year is not None:
        days = days.filter(date__year=year)
    return days.select_related("region", "created_by").order_by("date", "region__code")
