"""`{% inbox_rows rows %}`: the table rows of the department inbox.

Built in Python rather than by the template engine: fifty rows of nine cells cost the engine
several times the page's SQL (a node, a lookup and an escape per cell), which is most of what an
approver waits for. The markup is the same a template would give; every value is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from tongban.cases.selectors import InboxRow

register = template.Library()


@register.simple_tag
def inbox_rows(rows: Sequence[InboxRow]) -> SafeString:
    # Labels shown beside each cell on a phone (the table stacks; see .table.stack in the CSS).
    number, item, applicant, step, department, due = (
        escape(_(label)) for label in ("编号", "事项", "申请人", "环节", "部门", "期限")
    )
    cards = {
        "red": escape(_("红牌·已超期")),
        "yellow": escape(_("黄牌·即将到期")),
        "green": escape(_("绿牌")),
    }
    paused = escape(_("特别程序中"))
    # One reverse for the page: the case links differ only by the id.
    head, _zero, tail = reverse("cases:staff_case", args=[0]).rpartition("0")
    html = []
    for row in rows:
        if row.due is None:
            when = paused
        else:
            when = timezone.localtime(row.due).strftime("%Y年%m月%d日")
            if row.card:
                when += (
                    f' <span class="card-tag card-{row.card}" data-card="{row.card}">'
                    f"{cards[row.card]}</span>"
                )
        name = escape(row.step)
        html.append(
            f'<tr data-step="{name}">'
            f'<td data-label="{number}"><a href="{head}{row.case_id}{tail}">{escape(row.number)}</a></td>'
            f'<td data-label="{item}">{escape(row.item)}</td>'
            f'<td data-label="{applicant}">{escape(row.applicant)}</td>'
            f'<td data-label="{step}">{name}</td>'
            f'<td data-label="{department}">{escape(row.department)}</td>'
            f'<td data-label="{due}">{when}</td></tr>'
        )
    return mark_safe("\n".join(html))  # noqa: S308 - every value above went through escape()
