"""Forms of the supervision pages: they check shapes; the services decide."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import CardClock


class BoardFilterForm(forms.Form):
    department = forms.TypedChoiceField(
        label=_("部门"), required=False, coerce=int, empty_value=None
    )
    item = forms.TypedChoiceField(label=_("事项"), required=False, coerce=int, empty_value=None)
    clock = forms.ChoiceField(
        label=_("时限"),
        required=False,
        choices=[(c.value, c.label) for c in CardClock if c != CardClock.DIRECTIVE],
    )

    def __init__(
        self, *args: Any, departments: Sequence = (), items: Sequence = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["department"]).choices = [
            ("", _("全部部门")),
            *departments,
        ]
        cast(forms.ChoiceField, self.fields["item"]).choices = [("", _("全部事项")), *items]


class DirectiveForm(forms.Form):
    department = forms.TypedChoiceField(label=_("责任部门"), coerce=int)
    pattern = forms.CharField(
        label=_("督办问题"),
        max_length=200,
        required=False,
        help_text=_("不针对某一办件时，写明问题，如“某环节多次超期”。"),
    )
    text = forms.CharField(
        label=_("督办要求"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )
    limit_days = forms.IntegerField(
        label=_("答复时限（工作日）"), min_value=1, max_value=30, initial=3
    )

    def __init__(self, *args: Any, departments: Sequence = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["department"]).choices = list(departments)


class ReplyForm(forms.Form):
    text = forms.CharField(
        label=_("答复内容"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )


class CloseForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("审核结果"),
        choices=[("accept", _("通过，督办办结")), ("return", _("退回，要求重新办理"))],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("审核意见"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class QuarterForm(forms.Form):
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    quarter = forms.TypedChoiceField(
        label=_("季度"),
        coerce=int,
        choices=[(1, _("第一季度")), (2, _("第二季度")), (3, _("第三季度")), (4, _("第四季度"))],
    )
