"""Cases in the states the board counts, made through the cases services as a clerk would."""

from __future__ import annotations

from tongban.cases import services
from tongban.cases.tests.factories import FORM


def submitted_case(world, channel: str = "window"):
    return services.case_create(
        actor=world.clerk,
        applicant=world.applicant,
        channel="window",
        version=world.item,
        form_data=FORM,
        hall=world.hall,
    )


def accepted_case(world):
    case = submitted_case(world)
    services.case_accept(actor=world.clerk, case=case)
    case.refresh_from_db()
    return case


def completed_case(world):
    """Accepted, every step passed in its department, approved by the head."""
    case = accepted_case(world)
    services.step_pass(actor=world.approver, step=case.steps.get(name="审查"), opinion="齐全")
    services.step_pass(actor=world.approver, step=case.steps.get(name="现场核查"), opinion="通过")
    services.step_pass(
        actor=world.other_approver, step=case.steps.get(name="部门意见"), opinion="同意"
    )
    services.step_decide(
        actor=world.head, step=case.steps.get(name="决定"), approve=True, reason="符合"
    )
    case.refresh_from_db()
    return case
