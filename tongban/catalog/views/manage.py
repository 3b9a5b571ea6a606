"""Catalogue pages for catalogue admins: an item's versions, its draft, publishing and suspending.

Thin: translate the request, call `catalog.services`, render. Every change is a POST that goes
through a service, so it is validated there and lands in the item's event log. An item outside the
admin's region subtree is a 404: it is not theirs to know about.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from tongban.catalog import services
from tongban.catalog.forms import DraftForm, SuspendForm
from tongban.catalog.models import ItemStatus, ItemVersion, ServiceItem
from tongban.catalog.permissions import MANAGE_ROLES, items_manageable_by
from tongban.core.selectors import event_list_for
from tongban.web.decorators import staff_required
from tongban.web.forms import add_service_errors

EVENT_LABELS = {
    "catalog.item_created": gettext_lazy("创建事项"),
    "catalog.draft_started": gettext_lazy("创建新版本草稿"),
    "catalog.draft_updated": gettext_lazy("修改草稿"),
    "catalog.version_published": gettext_lazy("发布版本"),
    "catalog.version_suspended": gettext_lazy("暂停办理"),
}


def _managed_item(request: HttpRequest, item_id: int) -> ServiceItem:
    return get_object_or_404(items_manageable_by(request.user), pk=item_id)


def _versions(item: ServiceItem) -> list[ItemVersion]:
    return list(item.versions.select_related("created_by").order_by("-version"))


def _of_status(versions: list[ItemVersion], *statuses: str) -> ItemVersion | None:
    return next((v for v in versions if v.status in statuses), None)


def _item_page(
    request: HttpRequest, item: ServiceItem, suspend_form: SuspendForm | None = None
) -> HttpResponse:
    versions = _versions(item)
    current = _of_status(versions, ItemStatus.PUBLISHED, ItemStatus.SUSPENDED)
    events = [
        {"event": e, "label": EVENT_LABELS.get(e.kind, e.kind)}
        for e in event_list_for(subject=item)
    ]
    context = {
        "title": current.name if current else item.entry.name,
        "item": item,
        "current": current,
        "draft": _of_status(versions, ItemStatus.DRAFT),
        "versions": versions,
        "events": events,
        "suspend_form": suspend_form or SuspendForm(),
    }
    return render(request, "catalog/manage/item.html", context)


@staff_required(*MANAGE_ROLES)
def item_page(request: HttpRequest, item_id: int) -> HttpResponse:
    return _item_page(request, _managed_item(request, item_id))


@require_POST
@staff_required(*MANAGE_ROLES)
def draft_start(request: HttpRequest, item_id: int) -> HttpResponse:
    item = _managed_item(request, item_id)
    try:
        draft = services.item_draft_start(actor=request.user, item=item)
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
        return redirect("catalog:manage_item", item_id=item.pk)
    messages.success(request, _("已创建第 %(n)s 版草稿。") % {"n": draft.version})
    return redirect("catalog:manage_draft", item_id=item.pk)


@staff_required(*MANAGE_ROLES)
def draft_page(request: HttpRequest, item_id: int) -> HttpResponse:
    item = _managed_item(request, item_id)
    draft = item.versions.filter(status=ItemStatus.DRAFT).first()
    if draft is None:
        messages.error(request, _("该事项目前没有草稿，请先创建新版本草稿。"))
        return redirect("catalog:manage_item", item_id=item.pk)
    saved_name = draft.name  # the form's validation writes what was typed onto its instance
    form = DraftForm(request.POST or None, instance=draft)
    if request.method == "POST" and form.is_valid():
        try:
            services.version_update(actor=request.user, version=draft, content=form.content())
        except ValidationError as error:
            # add_service_errors only uses BaseForm's API; its annotation says Form.
            add_service_errors(form, error)
        else:
            messages.success(request, _("草稿已保存。"))
            return redirect("catalog:manage_draft", item_id=item.pk)
    context = {
        "title": _("编辑草稿"),
        "item": item,
        "draft": draft,
        "saved_name": saved_name,
        "form": form,
        "materials": draft.materials.all(),
        "steps": draft.steps.select_related("department"),
    }
    return render(request, "catalog/manage/draft.html", context)


@require_POST
@staff_required(*MANAGE_ROLES)
def draft_publish(request: HttpRequest, item_id: int) -> HttpResponse:
    item = _managed_item(request, item_id)
    versions = _versions(item)
    draft = _of_status(versions, ItemStatus.DRAFT)
    if draft is None:
        messages.error(request, _("该事项目前没有草稿，请先创建新版本草稿。"))
        return redirect("catalog:manage_item", item_id=item.pk)
    replaced = _of_status(versions, ItemStatus.PUBLISHED, ItemStatus.SUSPENDED)
    try:
        published = services.version_publish(actor=request.user, version=draft)
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
        return redirect("catalog:manage_draft", item_id=item.pk)
    values: dict[str, Any] = {"n": published.version}
    if replaced is None:
        messages.success(request, _("已发布第 %(n)s 版。") % values)
    else:
        values["m"] = replaced.version
        messages.success(request, _("已发布第 %(n)s 版；第 %(m)s 版转为历史版本。") % values)
    return redirect("catalog:manage_item", item_id=item.pk)


@require_POST
@staff_required(*MANAGE_ROLES)
def version_suspend(request: HttpRequest, item_id: int) -> HttpResponse:
    item = _managed_item(request, item_id)
    form = SuspendForm(request.POST)
    published = item.versions.filter(status=ItemStatus.PUBLISHED).first()
    if published is None:
        messages.error(request, _("只有已发布的版本可以暂停办理。"))
        return redirect("catalog:manage_item", item_id=item.pk)
    if form.is_valid():
        try:
            services.version_suspend(
                actor=request.user, version=published, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("第 %(n)s 版已暂停办理。") % {"n": published.version})
            return redirect("catalog:manage_item", item_id=item.pk)
    return _item_page(request, item, suspend_form=form)


urlpatterns = [
    path("<int:item_id>/", item_page, name="manage_item"),
    path("<int:item_id>/draft/", draft_page, name="manage_draft"),
    path("<int:item_id>/draft/start/", draft_start, name="manage_draft_start"),
    path("<int:item_id>/draft/publish/", draft_publish, name="manage_publish"),
    path("<int:item_id>/suspend/", version_suspend, name="manage_suspend"),
]
