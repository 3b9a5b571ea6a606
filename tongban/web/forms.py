"""Forms translate what a person typed into service arguments; services decide what is valid."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from tongban.org.models import ApplicantKind


def add_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Show a service's ValidationError next to the fields it names (or above the form)."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


class StaffSignInForm(forms.Form):
    username = forms.CharField(label=_("用户名"), max_length=150)
    password = forms.CharField(label=_("密码"), widget=forms.PasswordInput)


def _mobile_field() -> forms.CharField:
    widget = forms.TextInput(attrs={"type": "tel", "inputmode": "numeric", "autocomplete": "tel"})
    return forms.CharField(label=_("手机号码"), max_length=20, widget=widget)


class MobileForm(forms.Form):
    mobile = _mobile_field()


class CodeForm(forms.Form):
    mobile = _mobile_field()
    code = forms.CharField(
        label=_("验证码"),
        max_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


class ApplicantForm(forms.Form):
    kind = forms.ChoiceField(label=_("申请人类型"), choices=ApplicantKind.choices)
    name = forms.CharField(label=_("姓名或单位名称"), max_length=100)
    id_number = forms.CharField(label=_("身份证号码"), max_length=30, required=False)
    credit_code = forms.CharField(label=_("统一社会信用代码"), max_length=30, required=False)
    legal_representative = forms.CharField(label=_("法定代表人"), max_length=50, required=False)
    mobile = forms.CharField(label=_("手机号码"), max_length=20, required=False)
