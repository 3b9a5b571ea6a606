"""Organisation pages for system administrators, and detail pages for everyone in scope."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tongban.core.selectors import event_list_for
from tongban.web.decorators import staff_required
from tongban.web.forms import add_service_errors

from . import permissions, selectors, services
from .forms import StaffForm
from .models import Role


@staff_required(Role.SYSADMIN)
def overview(request: HttpRequest) -> HttpResponse:
    user = request.user
    context = {
        "departments": selectors.department_list_visible_to(actor=user),
        "halls": selectors.hall_list_visible_to(actor=user),
        "staff": selectors.staff_list_visible_to(actor=user),
        "regions": permissions.admin_regions_of(user),
    }
    return render(request, "org/overview.html", context)


@staff_required()
def department_detail(request: HttpRequest, pk: int) -> HttpResponse:
    department = get_object_or_404(selectors.department_list_visible_to(actor=request.user), pk=pk)
    context = {
        "department": department,
        "can_edit": permissions.can_edit_department(request.user, department),
        "staff": selectors.staff_list_visible_to(actor=request.user).filter(
            roles__department=department
        ),
        "events": event_list_for(subject=department),
    }
    return render(request, "org/department_detail.html", context)


@staff_required()
def hall_detail(request: HttpRequest, pk: int) -> HttpResponse:
    hall = get_object_or_404(selectors.hall_list_visible_to(actor=request.user), pk=pk)
    return render(request, "org/hall_detail.html", {"hall": hall})


@staff_required(Role.SYSADMIN)
@require_http_methods(["GET", "POST"])
def staff_new(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not permissions.can_manage_staff(user):
        raise PermissionDenied
    form = StaffForm(
        request.POST or None,
        regions=permissions.regions_manageable_by(user),
        departments=selectors.department_list_visible_to(actor=user),
        halls=selectors.hall_list_visible_to(actor=user),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        spec = services.RoleSpec(
            role=data["role"],
            region=data["region"],
            department=data["department"],
            hall=data["hall"],
        )
        try:
            created = services.staff_create(
                actor=user,
                username=data["username"],
                full_name=data["full_name"],
                password=data["password"],
                mobile=data["mobile"],
                roles=[spec],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except services.PermissionDeniedError as exc:
            form.add_error("region", str(exc))
        else:
            messages.success(
                request, _("已创建工作人员 %(name)s。") % {"name": created.display_name}
            )
            return redirect("org:overview")
    return render(request, "org/staff_new.html", {"form": form})
