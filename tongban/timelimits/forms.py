"""What a person types on the calendar pages, translated into selector and service arguments."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tongban.org.models import Region

from .models import DayKind

NATIONAL = ""


def _region_choices(regions: Any, national_label: str | None) -> list[tuple[str, str]]:
    # Indented by level, so the tree reads as a tree in a plain select.
    choices = [(NATIONAL, national_label)] if national_label is not None else []
    for region in regions:
        indent = "\u3000" * (len(region.code) // 3)
        choices.append((region.code, f"{indent}{region.name}"))
    return choices


class CalendarViewForm(forms.Form):
    """The year and the region of the calendar page (a GET form)."""

    year = forms.TypedChoiceField(label=_("年份"), coerce=int)
    region = forms.ChoiceField(label=_("区划"), required=False)

    def __init__(self, *args: Any, years: list[int], regions: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        year_field: Any = self.fields["year"]
        year_field.choices = [(y, f"{y}年") for y in years]
        region_field: Any = self.fields["region"]
        region_field.choices = _region_choices(regions, str(_("全国（国务院安排）")))


class NoticeImportForm(forms.Form):
    text = forms.CharField(
        label=_("通知全文"),
        widget=forms.Textarea(
            attrs={
                "rows": 10,
                "placeholder": _(
                    "国务院办公厅关于××××年部分节假日安排的通知\n……\n一、元旦：1月1日放假……"
                ),
            }
        ),
        help_text=_("从中国政府网复制通知的全文（含标题）粘贴到这里。"),
        strip=False,
    )


class CalendarDayForm(forms.Form):
    region = forms.ChoiceField(label=_("适用区划"))
    date = forms.DateField(label=_("日期"), widget=forms.DateInput(attrs={"type": "date"}))
    kind = forms.ChoiceField(label=_("类型"), choices=DayKind.choices)
    name = forms.CharField(
        label=_("名称"), max_length=100, help_text=_("如：防汛救灾、泼水节、补班")
    )
    note = forms.CharField(label=_("备注"), max_length=200, required=False)

    def __init__(self, *args: Any, regions: Any, national: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._regions = {r.code: r for r in regions}
        region_field: Any = self.fields["region"]
        region_field.choices = _region_choices(
            self._regions.values(), str(_("全国（国务院通知之外另行安排）")) if national else None
        )

    def clean_region(self) -> Region | None:
        code = self.cleaned_data["region"]
        return self._regions.get(code) if code else None
