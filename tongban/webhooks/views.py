"""Webhook pages: endpoints and failed deliveries for sysadmins and department heads."""

from __future__ import annotations

import json
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tongban.core.selectors import event_list_for
from tongban.org.models import Role
from tongban.web.decorators import staff_required
from tongban.web.forms import add_service_errors

from . import permissions, selectors, services
from .forms import EndpointForm

webhook_staff = staff_required(Role.SYSADMIN, Role.DEPARTMENT_HEAD)


@webhook_staff
def index(request: HttpRequest) -> HttpResponse:
    context = {
        "endpoints": selectors.endpoint_list_visible_to(actor=request.user),
        "failed": selectors.delivery_list_failed_visible_to(actor=request.user)[:100],
        "can_create": permissions.departments_manageable_by(request.user).exists(),
    }
    return render(request, "webhooks/index.html", context)


@staff_required(Role.SYSADMIN)
@require_http_methods(["GET", "POST"])
def endpoint_new(request: HttpRequest) -> HttpResponse:
    departments = permissions.departments_manageable_by(request.user)
    form = EndpointForm(request.POST or None, departments=departments)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            endpoint = services.webhook_endpoint_create(
                department=data["department"],
                name=data["name"],
                url=data["url"],
                kinds=data["kinds"],
                actor=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except services.PermissionDeniedError as exc:
            form.add_error("department", str(exc))
        else:
            messages.success(
                request,
                _("已创建推送地址“%(name)s”。请把签名密钥配置到部门系统中。")
                % {"name": endpoint.name},
            )
            return redirect("webhooks:endpoint_detail", pk=endpoint.pk)
    context = {"form": form, "takes_effect_within": settings.WEBHOOK_ENDPOINT_CACHE_SECONDS}
    return render(request, "webhooks/endpoint_new.html", context)


@webhook_staff
def endpoint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(selectors.endpoint_list_visible_to(actor=request.user), pk=pk)
    can_manage = permissions.can_manage_endpoints(request.user, endpoint.department)
    context = {
        "endpoint": endpoint,
        "can_manage": can_manage,
        "deliveries": selectors.delivery_list_for_endpoint(endpoint=endpoint)[:50],
        "events": event_list_for(subject=endpoint),
    }
    return render(request, "webhooks/endpoint_detail.html", context)


@webhook_staff
@require_POST
def endpoint_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(selectors.endpoint_list_visible_to(actor=request.user), pk=pk)
    try:
        services.webhook_endpoint_set_active(
            endpoint=endpoint, active=request.POST.get("active") == "1", actor=request.user
        )
    except services.PermissionDeniedError:
        raise PermissionDenied from None
    return redirect("webhooks:endpoint_detail", pk=endpoint.pk)


@webhook_staff
def delivery_detail(request: HttpRequest, delivery_id: UUID) -> HttpResponse:
    delivery = get_object_or_404(
        selectors.delivery_list_visible_to(actor=request.user), delivery_id=delivery_id
    )
    context = {
        "delivery": delivery,
        "attempts": selectors.attempt_list_for_delivery(delivery=delivery),
        "body": json.dumps(delivery.body, ensure_ascii=False, indent=2, sort_keys=True),
    }
    return render(request, "webhooks/delivery_detail.html", context)


@webhook_staff
@require_POST
def delivery_replay(request: HttpRequest, delivery_id: UUID) -> HttpResponse:
    delivery = get_object_or_404(
        selectors.delivery_list_visible_to(actor=request.user), delivery_id=delivery_id
    )
    try:
        services.webhook_replay(delivery=delivery, actor=request.user)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    except services.PermissionDeniedError:
        raise PermissionDenied from None
    else:
        messages.success(
            request, _("已重新投递 %(id)s，投递编号不变。") % {"id": delivery.delivery_id}
        )
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect("webhooks:index")
