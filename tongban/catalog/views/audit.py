"""Catalogue pages: audit. Thin: translate the request, call the audit's selector, render.

The page lists the findings about the departments the viewer may see, filtered by department,
severity and rule; 导出 Excel downloads the same filtered findings as a workbook.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tongban.catalog import audit
from tongban.org.models import Department, Role
from tongban.org.permissions import departments_visible_to
from tongban.web.decorators import staff_required

AUDIT_ROLES = (Role.CATALOGUE_ADMIN, Role.SUPERVISOR, Role.SYSADMIN)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class AuditFilterForm(forms.Form):
    """The filters of the audit page (a GET form); empty means 全部."""

    department = forms.ModelChoiceField(
        label=gettext_lazy("部门"),
        queryset=Department.objects.none(),
        required=False,
        empty_label=gettext_lazy("全部部门"),
    )
    severity = forms.ChoiceField(label=gettext_lazy("严重程度"), required=False)
    rule = forms.ChoiceField(label=gettext_lazy("规则"), required=False)

    def __init__(self, *args: Any, departments: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        department_field: Any = self.fields["department"]
        department_field.queryset = departments
        severity_field: Any = self.fields["severity"]
        severity_field.choices = [("", _("全部")), *audit.Severity.choices]
        rule_field: Any = self.fields["rule"]
        rule_field.choices = [("", _("全部规则"))] + [
            (r.code, str(r.title)) for r in audit.RULES.values()
        ]


def _filtered(request: HttpRequest) -> tuple[AuditFilterForm, list[audit.Finding], dict]:
    departments = departments_visible_to(request.user).order_by("region__code", "code")
    form = AuditFilterForm(request.GET, departments=departments)
    if not form.is_valid():
        # A department outside the viewer's scope is not theirs to know about.
        raise Http404
    data = form.cleaned_data
    severities = [data["severity"]] if data["severity"] else []
    rules = [data["rule"]] if data["rule"] else []
    findings = audit.finding_list_visible_to(
        actor=request.user, department=data["department"], severities=severities
    )
    # Counts per rule are over the department and severity chosen, so each is a filter to pick.
    context = {"rule_counts": audit.count_by_rule(findings), "chosen_rule": data["rule"]}
    if rules:
        findings = [f for f in findings if f.rule in rules]
    return form, findings, context


@staff_required(*AUDIT_ROLES)
def audit_page(request: HttpRequest) -> HttpResponse:
    form, findings, context = _filtered(request)
    query = request.GET.copy()
    query.pop("rule", None)
    context |= {
        "form": form,
        "findings": findings,
        "summary": audit.summary_line(findings),
        "query": request.GET.urlencode(),
        "query_without_rule": query.urlencode(),
        "title": _("事项目录审查"),
    }
    template = "catalog/audit/findings.html"
    if getattr(request, "htmx", False):
        template += "#results"
    return render(request, template, context)


@staff_required(*AUDIT_ROLES)
def audit_export(request: HttpRequest) -> HttpResponse:
    _form, findings, _context = _filtered(request)
    filename = f"事项目录审查-{timezone.localdate():%Y%m%d}.xlsx"
    response = HttpResponse(audit.findings_workbook(findings), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


urlpatterns = [
    path("", audit_page, name="audit"),
    path("export.xlsx", audit_export, name="audit_export"),
]
