"""Catalogue forms: translate what a catalogue admin typed into arguments for `catalog.services`.

They never save: the draft's fields go to `services.version_update(content=...)`, which decides
what is valid (the model's constraints) and records the change in the item's event log.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import MAX_PREREVIEW_DAYS, ItemVersion

DRAFT_GROUPS = [
    (_("基本信息"), ["name", "implementing_body"]),
    (
        _("办理时限"),
        [
            "legal_limit",
            "promised_limit",
            "limit_unit",
            "declared_immediate",
            "prereview_limit",
            "extension_allowed",
            "extension_days",
        ],
    ),
    (
        _("办理方式"),
        [
            "claimed_visits",
            "online_depth",
            "for_natural_person",
            "for_legal_person",
            "tolerance_allowed",
            "commitment_allowed",
            "conditions",
        ],
    ),
    (_("送达方式"), ["delivery_window", "delivery_mail", "delivery_electronic"]),
    (_("办理地点与指南"), ["office_address", "office_phone", "office_hours", "guide_reviewed_at"]),
]
DRAFT_FIELDS = [name for _title, names in DRAFT_GROUPS for name in names]


class DraftForm(forms.ModelForm):
    """The draft's main fields. Materials, steps and form fields come from the Excel import."""

    # The database's check names no field, so its message would land above the form; the law's
    # bound is repeated here so the error stands next to the field it is about.
    prereview_limit = forms.IntegerField(
        label=_("网上预审时限（工作日）"),
        min_value=1,
        max_value=MAX_PREREVIEW_DAYS,
        error_messages={
            "min_value": _("网上预审时限至少为 1 个工作日。"),
            "max_value": _(
                "网上预审时限不能超过 %(limit_value)s 个工作日（《行政许可法》第三十二条）。"
            ),
        },
    )

    class Meta:
        model = ItemVersion
        fields = DRAFT_FIELDS
        widgets = {
            "conditions": forms.Textarea(attrs={"rows": 4}),
            "guide_reviewed_at": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def groups(self) -> list[tuple[str, list[forms.BoundField]]]:
        """The fields in the sections the page shows, in the order of a 办事指南."""
        return [(str(title), [self[name] for name in names]) for title, names in DRAFT_GROUPS]

    def content(self) -> dict[str, Any]:
        """The cleaned values, as `version_update(content=...)` takes them."""
        return {name: self.cleaned_data[name] for name in DRAFT_FIELDS}


class SuspendForm(forms.Form):
    reason = forms.CharField(
        label=_("暂停办理的原因"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("请填写暂停办理的原因。")},
    )
