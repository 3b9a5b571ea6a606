"""The staff form: what a sysadmin types to create an account with one role."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Department, Hall, Region, Role


class StaffForm(forms.Form):
    username = forms.CharField(label=_("用户名"), max_length=150)
    full_name = forms.CharField(label=_("姓名"), max_length=50)
    mobile = forms.CharField(label=_("手机号码"), max_length=20, required=False)
    password = forms.CharField(label=_("初始密码"), widget=forms.PasswordInput)
    role = forms.ChoiceField(label=_("角色"), choices=Role.choices)
    region = forms.ModelChoiceField(label=_("区划范围"), queryset=Region.objects.none())
    department = forms.ModelChoiceField(
        label=_("部门"), queryset=Department.objects.none(), required=False
    )
    hall = forms.ModelChoiceField(label=_("大厅"), queryset=Hall.objects.none(), required=False)

    def __init__(
        self, *args: Any, regions: Any, departments: Any, halls: Any, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        region_field: Any = self.fields["region"]
        region_field.queryset = regions.exclude(level="village")
        region_field.label_from_instance = lambda r: f"{r.code} {r.name}"
        department_field: Any = self.fields["department"]
        department_field.queryset = departments
        hall_field: Any = self.fields["hall"]
        hall_field.queryset = halls
