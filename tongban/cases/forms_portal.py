"""The applicant's forms: an application generated from the item's (or bundle's) schema, with one
file input per material the applicant supplies.

These forms only render what was typed and carry the errors the services name: validation is
`tongban.cases.services` (which calls `catalog.formschema.validate_submission`), so a page and
the API can never disagree, and no message is shown twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.utils import ErrorDict
from django.utils.translation import gettext_lazy as _

from tongban.catalog.formschema import FieldSpec, form_class_for

from .selectors import PortalMaterial
from .uploads import ACCEPTED_LABEL, max_upload_bytes, sniff_upload

APPLICANT_FIELD = "applicant"


def material_field_name(material_type: str) -> str:
    # The same key the services use for a missing file ("material-<type>"), so their errors land here.
    return f"material-{material_type}"


@dataclass(frozen=True)
class HandedFile:
    name: str
    content: bytes


class ServiceValidatedForm(forms.Form):
    """A bound form that never validates itself: it keeps what was typed and shows the services'
    errors (web.forms.add_service_errors) next to the fields they name."""

    specs: Sequence[FieldSpec] = ()
    material_types: Sequence[str] = ()

    def full_clean(self) -> None:
        self._errors = ErrorDict(renderer=self.renderer)
        self.cleaned_data = {}

    def answers(self) -> dict[str, str]:
        """What was typed into the schema's fields, as typed (the services clean it)."""
        return {spec.key: self.data.get(spec.key, "") for spec in self.specs}

    def files_handed(self) -> dict[str, HandedFile]:
        """The files chosen, by material type; a file that is not acceptable gets its error here
        and is left out, so that a bad file changes nothing."""
        handed: dict[str, HandedFile] = {}
        limit = max_upload_bytes()
        for material_type in self.material_types:
            name = material_field_name(material_type)
            upload = self.files.get(name)
            if upload is None:
                continue
            # Read one byte past the limit, not the whole file: that is enough to refuse it.
            content = upload.read(limit + 1)
            try:
                sniff_upload(name=upload.name or "", content=content)
            except ValidationError as exc:
                self.add_error(name, exc.message_dict.get("file", exc.messages))
                continue
            handed[material_type] = HandedFile(upload.name or "", content)
        return handed

    def answer_fields(self) -> list[forms.BoundField]:
        return [self[spec.key] for spec in self.specs]

    def applicant_field(self) -> forms.BoundField | None:
        return self[APPLICANT_FIELD] if APPLICANT_FIELD in self.fields else None


def application_form_class(
    *,
    specs: Iterable[FieldSpec],
    materials: Iterable[PortalMaterial],
    applicants: Sequence[Any] | None = None,
) -> type[ServiceValidatedForm]:
    """The form for one application: the schema's fields, a file input per material the applicant
    supplies and, for a new application, which of the account's applicants applies."""
    specs = list(specs)
    schema_form = form_class_for(specs)
    extra: dict[str, Any] = {}
    if applicants is not None:
        extra[APPLICANT_FIELD] = forms.ChoiceField(
            label=_("申请人"),
            choices=[(str(a.pk), f"{a.name}（{a.get_kind_display()}）") for a in applicants],
        )
    types = []
    for material in materials:
        if material.waived:
            continue
        types.append(material.material_type)
        extra[material_field_name(material.material_type)] = forms.FileField(
            label=material.name,
            required=False,
            help_text=_("%(kinds)s，一个文件") % {"kinds": ACCEPTED_LABEL},
            widget=forms.FileInput(
                attrs={"accept": ".pdf,.jpg,.jpeg,.png,.ofd,application/pdf,image/jpeg,image/png"}
            ),
        )
    fields = {name: field for name, field in schema_form.base_fields.items()}
    return type(
        "PortalApplicationForm",
        (ServiceValidatedForm,),
        {**fields, **extra, "specs": specs, "material_types": types},
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("撤回原因（选填）"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class TrackForm(forms.Form):
    number = forms.CharField(label=_("办件编号"), max_length=40)
    code = forms.CharField(
        label=_("查询码"),
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
