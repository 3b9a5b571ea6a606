"""Staff forms of the case pages: they turn what a clerk or approver typed into service arguments.

Field names are the names the services use in their ValidationErrors (`opinion`, `reason`, `days`
…), so `tongban.web.forms.add_service_errors` puts a service's message next to the right field.
The services decide what is valid; a form only checks the shape (a number is a number).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tongban.catalog.models import SpecialProcedureKind
from tongban.catalog.selectors import output_labels
from tongban.org.models import ApplicantKind

from .models import Case, CaseMaterial, DeliveryMethod, MaterialStatus, Step


def _text(label: Any, *, rows: int = 2, required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=label, required=required, widget=forms.Textarea(attrs={"rows": rows})
    )


class ItemSearchForm(forms.Form):
    q = forms.CharField(label=_("事项名称"), required=False, max_length=50)


class ApplicantForm(forms.Form):
    """Find the applicant by ID number or credit code; register them in the same form if new."""

    kind = forms.ChoiceField(
        label=_("申请人类型"), choices=ApplicantKind.choices, initial=ApplicantKind.NATURAL
    )
    identifier = forms.CharField(
        label=_("身份证号码或统一社会信用代码"),
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    name = forms.CharField(
        label=_("姓名或单位名称（新申请人填写）"), max_length=100, required=False
    )
    mobile = forms.CharField(
        label=_("手机号码（新申请人填写）"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "numeric"}),
    )
    legal_representative = forms.CharField(
        label=_("法定代表人（单位申请人填写）"), max_length=50, required=False
    )


class AnswerForm(forms.Form):
    """The one answer at a window: the checklist, and what each of the five answers needs.

    One material row carries its tick (原件已核验), its 容缺 box when the item allows it, and the
    problem to list in a supplement notice; each form field can carry a problem too.
    """

    owed_by = forms.DateField(
        label=_("容缺材料补齐日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    commitment_text = _text(_("申请人签署的承诺内容"), required=False)
    reason = _text(_("不予受理理由"), required=False)
    basis = _text(_("法律依据"), required=False)

    def __init__(self, *args: Any, case: Case, materials: list[CaseMaterial], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.materials = materials
        self.case = case
        choices = [(str(m.pk), m.name) for m in materials]
        self.fields["checklist"] = forms.MultipleChoiceField(
            label=_("已收取并核验的材料"),
            choices=choices,
            required=False,
            widget=forms.CheckboxSelectMultiple,
            initial=[str(m.pk) for m in materials if m.status == MaterialStatus.PROVIDED],
        )
        self.fields["tolerated"] = forms.MultipleChoiceField(
            label=_("容缺的材料（可后补）"),
            choices=[(str(m.pk), m.name) for m in materials if m.tolerable],
            required=False,
            widget=forms.CheckboxSelectMultiple,
        )
        for material in materials:
            self.fields[f"problem_m{material.pk}"] = forms.CharField(
                label=_("“%(name)s”的问题") % {"name": material.name},
                required=False,
                max_length=300,
            )
        self.field_specs = _form_specs(case)
        for spec in self.field_specs:
            self.fields[f"problem_f{spec.key}"] = forms.CharField(
                label=_("“%(label)s”的问题") % {"label": spec.label},
                required=False,
                max_length=300,
            )

    def material_rows(self) -> list[dict[str, Any]]:
        return [{"material": m, "problem": self[f"problem_m{m.pk}"]} for m in self.materials]

    def field_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "label": spec.label,
                "value": self.case.form_data.get(spec.key, ""),
                "problem": self[f"problem_f{spec.key}"],
            }
            for spec in self.field_specs
        ]

    def supplement_items(self) -> list[dict[str, str]]:
        """Every material and field with a problem written next to it, for one notice."""
        items = []
        for material in self.materials:
            problem = self.cleaned_data.get(f"problem_m{material.pk}", "").strip()
            if problem:
                items.append(
                    {
                        "kind": "material",
                        "key": str(material.pk),
                        "name": material.name,
                        "problem": problem,
                    }
                )
        for spec in self.field_specs:
            problem = self.cleaned_data.get(f"problem_f{spec.key}", "").strip()
            if problem:
                items.append(
                    {"kind": "field", "key": spec.key, "name": spec.label, "problem": problem}
                )
        return items


def _form_specs(case: Case) -> list[Any]:
    from tongban.catalog.formschema import spec_of
    from tongban.catalog.selectors import bundle_merged_form

    if case.bundle is not None:
        return bundle_merged_form(bundle=case.bundle)
    assert case.version is not None
    return [spec_of(f) for f in case.version.form_fields.order_by("order")]


def application_form_class(case: Case) -> type[forms.Form]:
    from tongban.catalog.formschema import form_class_for

    return form_class_for(_form_specs(case))


class _OutputsMixin:
    """Inputs for what this case produces for the other items of its bundle."""

    fields: dict[str, forms.Field]
    cleaned_data: dict[str, Any]

    def _add_outputs(self, outputs: Any) -> None:
        targets: dict[str, list[str]] = {}
        for mapping in outputs:
            targets.setdefault(mapping.source_key, []).append(mapping.target.item.entry.name)
        self.output_keys: list[str] = list(targets)
        labels = output_labels(mappings=outputs) if outputs else {}
        for key, names in targets.items():
            self.fields[f"out_{key}"] = forms.CharField(
                label=_("%(key)s（供%(items)s使用）")
                % {"key": labels.get(key, key), "items": "、".join(f"“{n}”" for n in names)},
                max_length=100,
                required=False,
            )

    def outputs(self) -> dict[str, str]:
        return {
            key: self.cleaned_data[f"out_{key}"].strip()
            for key in self.output_keys
            if self.cleaned_data.get(f"out_{key}", "").strip()
        }


class OpinionForm(_OutputsMixin, forms.Form):
    """Pass a step; on the last stage (an item without a head's decision step is decided by it)
    also the result number and what the bundle's other items need."""

    opinion = _text(_("办理意见"))

    def __init__(self, *args: Any, final: bool = False, outputs: Any = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        if final:
            self.fields["result_number"] = forms.CharField(
                label=_("结果文号"), max_length=60, required=False
            )
        self._add_outputs(outputs if final else ())


class ReturnForm(forms.Form):
    to_step = forms.TypedChoiceField(label=_("退回到"), coerce=int)
    reason = _text(_("退回理由"))

    def __init__(self, *args: Any, earlier: list[Step], **kwargs: Any):
        super().__init__(*args, **kwargs)
        field = self.fields["to_step"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(s.pk, s.name) for s in earlier]


class ReasonForm(forms.Form):
    reason = _text(_("理由"))


class DecideForm(_OutputsMixin, forms.Form):
    """准予 or 不予许可; a bundle child's head also enters what the other items need from it."""

    reason = _text(_("决定意见（不予许可时必填）"), required=False)
    result_number = forms.CharField(label=_("结果文号"), max_length=60, required=False)

    def __init__(self, *args: Any, outputs: Any = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._add_outputs(outputs)


class SuspendForm(forms.Form):
    kind = forms.ChoiceField(label=_("特别程序"))
    reason = _text(_("事由"))
    expected_days = forms.IntegerField(label=_("预计时长（工作日）"), min_value=1, max_value=365)

    def __init__(self, *args: Any, kinds: list[str], **kwargs: Any):
        super().__init__(*args, **kwargs)
        labels = dict(SpecialProcedureKind.choices)
        field = self.fields["kind"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(k, labels.get(k, k)) for k in kinds]


class ExtensionRequestForm(forms.Form):
    days = forms.IntegerField(label=_("延长天数（工作日）"), min_value=1, max_value=365)
    reason = _text(_("延期理由"))


class DeliverForm(forms.Form):
    method = forms.ChoiceField(
        label=_("送达方式"),
        choices=[
            (DeliveryMethod.WINDOW, DeliveryMethod.WINDOW.label),
            (DeliveryMethod.MAIL, DeliveryMethod.MAIL.label),
            (DeliveryMethod.ELECTRONIC, DeliveryMethod.ELECTRONIC.label),
        ],
    )
    detail = forms.CharField(label=_("快递单号（邮寄送达时填写）"), max_length=200, required=False)


class PostCheckForm(forms.Form):
    passed = forms.TypedChoiceField(
        label=_("核查结论"),
        choices=[("1", _("符合承诺")), ("0", _("不符合承诺（撤销决定）"))],
        coerce=lambda value: value == "1",
    )
    note = _text(_("核查情况"))
