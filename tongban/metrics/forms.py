"""The dashboard's period and scope pickers: they check shapes and turn a period into dates.

Whether a scope may be seen is not theirs to say: tongban.metrics.permissions.scope_for decides,
and a scope outside the viewer's is a 404.
"""

from __future__ import annotations

import calendar
from datetime import date
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tongban.cases.models import Channel

from .definitions import INDICATORS
from .selectors import RANKING_KEYS, Scope, ScopeChoices

MAX_DAYS = 3660  # ten years, as the API: a longer period is almost certainly a typo

PERIOD_KINDS = [
    ("month", _("按月")),
    ("quarter", _("按季度")),
    ("year", _("按年")),
    ("custom", _("自定义日期")),
]
QUARTERS = [(1, _("第一季度")), (2, _("第二季度")), (3, _("第三季度")), (4, _("第四季度"))]
DATE_ERROR = _("应为 YYYY-MM-DD 格式的日期，例如 2026-01-31。")


def _date_field(label: Any) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": DATE_ERROR},
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class DashboardForm(forms.Form):
    period = forms.ChoiceField(label=_("统计周期"), choices=PERIOD_KINDS, required=False)
    month = forms.CharField(
        label=_("月份"),
        required=False,
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "2026-11"}),
    )
    year = forms.IntegerField(
        label=_("年度"),
        required=False,
        min_value=2000,
        max_value=2100,
        error_messages={"invalid": _("应为四位数的年份，例如 2026。")},
    )
    quarter = forms.TypedChoiceField(
        label=_("季度"), choices=QUARTERS, coerce=int, required=False, empty_value=None
    )
    start = _date_field(_("起始日期"))
    end = _date_field(_("截止日期"))
    region = forms.RegexField(
        label=_("区划"),
        regex=r"^\d{2,12}$",
        required=False,
        error_messages={"invalid": _("应为 2 至 12 位数字的区划代码。")},
    )
    department = forms.IntegerField(label=_("部门"), required=False)
    item = forms.IntegerField(label=_("事项"), required=False)
    hall = forms.IntegerField(label=_("大厅"), required=False)
    channel = forms.ChoiceField(
        label=_("渠道"), choices=[("", _("全部渠道")), *Channel.choices], required=False
    )
    ranking = forms.ChoiceField(
        label=_("部门排名依据"),
        choices=[(k, INDICATORS[k].name) for k in RANKING_KEYS],
        required=False,
    )

    def __init__(self, *args: Any, choices: ScopeChoices | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if choices is not None:
            # Plain numbers underneath: a scope outside the viewer's is the permissions' 404,
            # not a form error that would admit the department exists.
            for name, options, empty in (
                ("region", choices.regions, _("全部区划")),
                ("department", choices.departments, _("全部部门")),
                ("item", choices.items, _("全部事项")),
                ("hall", choices.halls, _("全部大厅")),
            ):
                self.fields[name].widget = forms.Select(choices=[("", empty), *options])

    def clean_month(self) -> tuple[int, int] | None:
        raw = (self.cleaned_data.get("month") or "").strip()
        if not raw:
            return None
        try:
            first = date.fromisoformat(f"{raw}-01")
        except ValueError:
            raise forms.ValidationError(
                gettext("应为 YYYY-MM 格式的月份，例如 2026-11。")
            ) from None
        return first.year, first.month

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        if self.errors:
            return data
        today = timezone.localdate()
        kind = data.get("period") or "month"
        data["period"] = kind
        if kind == "month":
            year, month = data.get("month") or (today.year, today.month)
            data["start"] = date(year, month, 1)
            data["end"] = date(year, month, calendar.monthrange(year, month)[1])
        elif kind == "quarter":
            year = data.get("year") or today.year
            quarter = data.get("quarter") or (today.month - 1) // 3 + 1
            data["year"], data["quarter"] = year, quarter
            data["start"] = date(year, 3 * quarter - 2, 1)
            last = 3 * quarter
            data["end"] = date(year, last, calendar.monthrange(year, last)[1])
        elif kind == "year":
            year = data.get("year") or today.year
            data["year"] = year
            data["start"], data["end"] = date(year, 1, 1), date(year, 12, 31)
        else:
            start, end = data.get("start"), data.get("end")
            if start is None:
                self.add_error("start", gettext("自定义日期时请填写起始日期。"))
            if end is None:
                self.add_error("end", gettext("自定义日期时请填写截止日期。"))
            if start and end and start > end:
                self.add_error("start", gettext("起始日期不能晚于截止日期。"))
            elif start and end and (end - start).days > MAX_DAYS:
                self.add_error("start", gettext("统计期间不能超过十年。"))
        return data

    @property
    def dates(self) -> tuple[date, date]:
        return self.cleaned_data["start"], self.cleaned_data["end"]

    @property
    def requested_scope(self) -> Scope:
        data = self.cleaned_data
        return Scope(
            region_code=data.get("region") or None,
            department_id=data.get("department"),
            item_id=data.get("item"),
            hall_id=data.get("hall"),
            channel=data.get("channel") or None,
        )

    @property
    def ranking_key(self) -> str:
        return self.cleaned_data.get("ranking") or "on_time_rate"

    @property
    def period_label(self) -> str:
        data = self.cleaned_data
        start, end = self.dates
        if data["period"] == "month":
            return gettext("%(y)d年%(m)d月") % {"y": start.year, "m": start.month}
        if data["period"] == "quarter":
            return gettext("%(y)d年第%(q)d季度") % {"y": start.year, "q": data["quarter"]}
        if data["period"] == "year":
            return gettext("%(y)d年") % {"y": start.year}
        return gettext("%(start)s 至 %(end)s") % {
            "start": start.isoformat(),
            "end": end.isoformat(),
        }


def initial_data(today: date) -> dict[str, str]:
    """What an unfiltered dashboard shows: this year so far (a month just begun holds a handful of
    cases). The month, year and quarter pickers start at today's, so switching the period kind
    shows the current month or quarter, not January or the first quarter."""
    return {
        "period": "year",
        "year": str(today.year),
        "quarter": str((today.month - 1) // 3 + 1),
        "month": f"{today.year:04d}-{today.month:02d}",
        "ranking": "on_time_rate",
    }
