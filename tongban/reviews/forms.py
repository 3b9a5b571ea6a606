"""Forms translate what a person typed into service arguments; the services decide what is valid."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Level, ReasonTag


class EvaluationForm(forms.Form):
    """The applicant's rating; which occasions are offered depends on the case."""

    occasion = forms.ChoiceField(label=_("评价的服务"), widget=forms.RadioSelect)
    level = forms.ChoiceField(
        label=_("满意程度"), choices=Level.choices, widget=forms.RadioSelect, required=False
    )
    tags = forms.MultipleChoiceField(
        label=_("不满意的原因（不满意时必选）"),
        choices=ReasonTag.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    text = forms.CharField(
        label=_("具体情况"),
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 500}),
        required=False,
        max_length=500,
    )

    def __init__(
        self,
        *args: Any,
        occasions: list[tuple[str, str]],
        preferred: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        occasion = self.fields["occasion"]
        assert isinstance(occasion, forms.ChoiceField)
        occasion.choices = occasions
        # One occasion to rate, or the one the applicant came to re-rate, is chosen already.
        values = [value for value, _label in occasions]
        if not self.is_bound and (preferred in values or len(values) == 1):
            self.initial.setdefault("occasion", preferred if preferred in values else values[0])


class CaseCodeForm(forms.Form):
    number = forms.CharField(label=_("办件编号"), max_length=40)
    code = forms.CharField(label=_("查询码"), max_length=12)


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("回访核实情况"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )


class ReplyForm(forms.Form):
    reply = forms.CharField(
        label=_("整改情况及回复（将公开）"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
    )


class AppealForm(forms.Form):
    evidence = forms.CharField(
        label=_("申诉理由及证据"), widget=forms.Textarea(attrs={"rows": 4}), max_length=4000
    )


class AppealDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("复核结论"),
        choices=[("upheld", _("申诉成立（差评不计入统计）")), ("rejected", _("申诉不成立"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("复核理由"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )


class PeriodForm(forms.Form):
    start = forms.DateField(
        label=_("起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", _("截止日期不能早于起始日期。"))
        return data
