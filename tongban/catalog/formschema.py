"""Validating an application against an item's form schema, with Chinese messages per field.

Pure functions over plain data (`FieldSpec`), so the same rules serve the portal form, the window
form, the API and bundle forms merged from several items. Never touches the database.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError

from tongban.core.validators import normalise_credit_code, normalise_id_number, normalise_mobile


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: str
    field_type: str
    required: bool = True
    choices: tuple[str, ...] = ()
    validation: Mapping[str, Any] = field(default_factory=dict)


def spec_of(form_field: Any) -> FieldSpec:
    """A FieldSpec from a FormField row (or anything with the same attributes)."""
    return FieldSpec(
        key=form_field.key,
        label=form_field.label,
        field_type=form_field.field_type,
        required=form_field.required,
        choices=tuple(form_field.choices or ()),
        validation=dict(form_field.validation or {}),
    )


def _clean_value(spec: FieldSpec, raw: Any) -> Any:
    rules = spec.validation
    if spec.field_type == "number":
        try:
            number = Decimal(str(raw).strip())
        except InvalidOperation:
            raise ValidationError(f"{spec.label}应为数字。") from None
        if "min" in rules and number < Decimal(str(rules["min"])):
            raise ValidationError(f"{spec.label}不能小于 {rules['min']}。")
        if "max" in rules and number > Decimal(str(rules["max"])):
            raise ValidationError(f"{spec.label}不能大于 {rules['max']}。")
        return str(number)
    if spec.field_type == "date":
        try:
            return dt.date.fromisoformat(str(raw).strip()).isoformat()
        except ValueError:
            raise ValidationError(f"{spec.label}应为日期，格式如 2026-01-31。") from None
    if spec.field_type == "choice":
        if str(raw) not in spec.choices:
            raise ValidationError(f"{spec.label}请从给定选项中选择。")
        return str(raw)
    if spec.field_type == "id_number":
        return normalise_id_number(str(raw))
    if spec.field_type == "credit_code":
        return normalise_credit_code(str(raw))
    if spec.field_type == "mobile":
        return normalise_mobile(str(raw))
    text = str(raw).strip()
    if "max_length" in rules and len(text) > int(rules["max_length"]):
        raise ValidationError(f"{spec.label}不能超过 {rules['max_length']} 个字。")
    if "pattern" in rules and not re.fullmatch(str(rules["pattern"]), text):
        raise ValidationError(rules.get("pattern_message") or f"{spec.label}格式不正确。")
    return text


def validate_submission(specs: Iterable[FieldSpec], data: Mapping[str, Any]) -> dict[str, Any]:
    """Return the cleaned answers, or raise ValidationError naming every field that is wrong.

    Keys not in the schema are dropped: an application stores only what its form asks for.
    """
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for spec in specs:
        raw = data.get(spec.key)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if spec.required:
                errors[spec.key] = [f"请填写{spec.label}。"]
            continue
        try:
            cleaned[spec.key] = _clean_value(spec, raw)
        except ValidationError as exc:
            errors[spec.key] = exc.messages
    if errors:
        raise ValidationError(errors)
    return cleaned


def form_class_for(specs: Iterable[FieldSpec]) -> type[Any]:
    """A Django form class for the schema: the widgets a person fills in (date pickers, numeric
    keyboards, choice lists), whose validation is `validate_submission` itself, so that a page and
    the API can never disagree about what a valid application is."""
    from django import forms

    specs = list(specs)
    widgets: dict[str, Any] = {
        "number": forms.TextInput(attrs={"inputmode": "decimal"}),
        "date": forms.DateInput(attrs={"type": "date"}),
        "mobile": forms.TextInput(
            attrs={"type": "tel", "inputmode": "numeric", "autocomplete": "tel"}
        ),
        "id_number": forms.TextInput(attrs={"autocomplete": "off", "maxlength": 18}),
        "credit_code": forms.TextInput(attrs={"autocomplete": "off", "maxlength": 18}),
        "address": forms.Textarea(attrs={"rows": 2}),
    }
    fields: dict[str, Any] = {}
    for spec in specs:
        options: dict[str, Any] = {
            "label": spec.label,
            "required": spec.required,
            "error_messages": {
                "required": f"请填写{spec.label}。"
                if spec.field_type != "file"
                else f"请上传{spec.label}。"
            },
        }
        if spec.field_type == "choice":
            fields[spec.key] = forms.ChoiceField(
                choices=[("", "请选择"), *((c, c) for c in spec.choices)], **options
            )
        elif spec.field_type == "file":
            fields[spec.key] = forms.FileField(**options)
        else:
            fields[spec.key] = forms.CharField(
                widget=widgets.get(spec.field_type, forms.TextInput()), **options
            )

    def clean(self: forms.Form) -> dict[str, Any]:
        # Fields Django already refused (a required one left empty) are not checked twice.
        typed = [s for s in specs if s.field_type != "file" and s.key not in self.errors]
        answers = {s.key: self.cleaned_data.get(s.key) for s in typed}
        try:
            cleaned = validate_submission(typed, answers)
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                self.add_error(key, messages)
            return self.cleaned_data
        files = {
            s.key: self.cleaned_data[s.key]
            for s in specs
            if s.field_type == "file" and self.cleaned_data.get(s.key)
        }
        return {**cleaned, **files}

    return type("ApplicationForm", (forms.Form,), {**fields, "clean": clean})
