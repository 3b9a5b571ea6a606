"""The endpoint form: what a system administrator types to register a department system."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tongban.org.models import Department

KIND_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*(\.\*)?$")


class EndpointForm(forms.Form):
    department = forms.ModelChoiceField(label=_("部门"), queryset=Department.objects.none())
    name = forms.CharField(label=_("名称"), max_length=100, help_text=_("例如：审批业务系统"))
    url = forms.URLField(
        label=_("接收地址"),
        max_length=500,
        assume_scheme="https",
        help_text=_("部门系统接收推送的 http(s) 地址"),
    )
    kinds = forms.CharField(
        label=_("事件类型"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("每行一个，如 case.accepted，或 case.* 表示一类；留空表示全部事件"),
    )

    def __init__(self, *args: Any, departments: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        department_field: Any = self.fields["department"]
        department_field.queryset = departments

    def clean_kinds(self) -> list[str]:
        kinds = [k.strip() for k in re.split(r"[\s,，]+", self.cleaned_data["kinds"]) if k.strip()]
        wrong = [k for k in kinds if not KIND_PATTERN.match(k)]
        if wrong:
            raise forms.ValidationError(
                _("无法识别的事件类型：%(kinds)s。格式如 case.accepted 或 case.*。")
                % {"kinds": "、".join(wrong)}
            )
        return kinds
