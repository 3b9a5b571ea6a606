"""Cases at the occasions an applicant rates: accepted at the window, or decided."""

from __future__ import annotations

from typing import Any

from tongban.cases import services as case_services
from tongban.cases.models import Case
from tongban.cases.tests.factories import FORM, World, make_world, staff
from tongban.cases.workflow import StepStatus
from tongban.org.models import Role

__all__ = ["World", "accepted_case", "concluded_case", "make_world", "staff", "window_case"]


def window_case(world: World) -> Case:
    return case_services.case_create(
        actor=world.clerk,
        applicant=world.applicant,
        channel="window",
        version=world.item,
        form_data=FORM,
        hall=world.hall,
    )


def accepted_case(world: World) -> Case:
    case = window_case(world)
    case_services.case_accept(actor=world.clerk, case=case)
    case.refresh_from_db()
    return case


def concluded_case(world: World, *, approve: bool = True) -> Case:
    """Accepted, every step passed by its department, decided by the head."""
    case = accepted_case(world)
    while True:
        active = list(case.steps.filter(status=StepStatus.ACTIVE).order_by("order"))
        if not active:
            break
        for step in active:
            if step.kind == "decision":
                case_services.step_decide(
                    actor=world.head, step=step, approve=approve, reason="依法决定"
                )
            else:
                approver = (
                    world.other_approver if step.department_id == world.other.pk else world.approver
                )
                case_services.step_pass(actor=approver, step=step, opinion="同意")
    case.refresh_from_db()
    return case


def hotline_agent(world: World) -> Any:
    return staff(Role.HOTLINE_AGENT)
