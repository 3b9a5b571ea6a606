"""一件事: 开办企业 from the demo catalogue, one application, children in parallel, the credit code
flowing from the licence to the items that depend on it."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from tongban.cases import services
from tongban.cases.models import Case, MaterialStatus
from tongban.cases.selectors import case_timeline, inbox_for
from tongban.cases.workflow import CaseStatus, StepStatus
from tongban.catalog.demo import load_demo_catalogue
from tongban.catalog.models import Bundle
from tongban.catalog.selectors import bundle_merged_form
from tongban.org.models import Applicant, ApplicantKind, Hall, User

pytestmark = pytest.mark.django_db

CREDIT_CODE = "91430981MA4L000017"


@pytest.fixture
def startup():
    load_demo_catalogue()
    return Bundle.objects.get(code="430981-YJS-001")


def staff(username: str) -> User:
    return User.objects.get(username=username)


FORM = {
    "company_name": "沅江市洞庭湖食品有限公司",
    "enterprise_type": "有限责任公司",
    "legal_representative": "王五",
    "id_number": "430981199503152021",
    "mobile": "13800138000",
    "registered_capital": "100",
    "registered_address": "沅江市琼湖街道滨湖路1号",
    "business_scope": "食品销售",
    "seal_maker": "沅江市刻章店",
    "employees": "5",
}


def answers(bundle: Bundle) -> dict[str, str]:
    """The merged form filled in: known answers, the first option of a choice, 1 elsewhere."""
    return {
        spec.key: FORM.get(spec.key) or (spec.choices[0] if spec.choices else "1")
        for spec in bundle_merged_form(bundle=bundle)
    }


def children_by_title(parent: Case) -> dict[str, Case]:
    return {c.title: c for c in parent.children.all()}


def pass_active(case: Case, actor: User, **kwargs) -> None:
    for step in case.steps.filter(status=StepStatus.ACTIVE):
        services.step_pass(actor=actor, step=step, opinion="同意", **kwargs)


def test_startup_bundle_runs_the_licence_first_then_the_rest_with_its_credit_code(startup):
    clerk = staff("chuangkou")
    applicant = Applicant.objects.get(id_number="430981199503152021")
    hall = Hall.objects.get(name="沅江市政务服务中心")
    form = answers(startup)
    parent = services.case_create(
        actor=clerk,
        applicant=applicant,
        channel="window",
        bundle=startup,
        form_data=form,
        hall=hall,
    )
    children = children_by_title(parent)
    assert set(children) == {"公司设立登记", "公章刻制备案", "发票领用", "社会保险登记（单位参保）"}
    assert all(c.status == CaseStatus.SUBMITTED for c in children.values())
    assert "credit_code" not in children["公章刻制备案"].form_data

    checklist = {m.pk: True for m in parent.materials.all()}
    services.case_accept(actor=clerk, case=parent, checklist=checklist)
    parent.refresh_from_db()
    children = children_by_title(parent)
    licence = children["公司设立登记"]
    assert parent.status == CaseStatus.ACCEPTED and parent.promised_due is not None
    assert licence.status == CaseStatus.ACCEPTED
    assert {c.status for t, c in children.items() if t != "公司设立登记"} == {CaseStatus.WAITING}
    assert (
        not licence.materials.exclude(status__in=[MaterialStatus.PROVIDED, MaterialStatus.WAIVED])
        .filter(required=True)
        .exists()
    )
    [licence_step] = inbox_for(actor=staff("shenpi"))
    assert licence_step.case == licence

    # The licence cannot be approved without the credit code the other items need.
    with pytest.raises(ValidationError, match="统一社会信用代码"):
        services.step_pass(actor=staff("shenpi"), step=licence_step, opinion="准予登记")
    services.step_pass(
        actor=staff("shenpi"),
        step=licence_step,
        opinion="准予登记",
        outputs={"credit_code": CREDIT_CODE},
    )
    children = children_by_title(parent)
    assert children["公司设立登记"].status == CaseStatus.COMPLETED
    for title in ("公章刻制备案", "发票领用", "社会保险登记（单位参保）"):
        assert children[title].status == CaseStatus.ACCEPTED, title
        assert children[title].form_data["credit_code"] == CREDIT_CODE
    # Three departments now work in parallel.
    assert [s.case.title for s in inbox_for(actor=staff("gongan"))] == ["公章刻制备案"]
    assert [s.case.title for s in inbox_for(actor=staff("shuiwu"))] == ["发票领用"]
    assert [s.case.title for s in inbox_for(actor=staff("shebao"))] == ["社会保险登记（单位参保）"]

    pass_active(children["公章刻制备案"], staff("gongan"))
    pass_active(children["发票领用"], staff("shuiwu"))
    parent.refresh_from_db()
    assert parent.status == CaseStatus.ACCEPTED
    pass_active(children["社会保险登记（单位参保）"], staff("shebao"))
    parent.refresh_from_db()
    assert parent.status == CaseStatus.COMPLETED
    assert parent.outputs["credit_code"] == CREDIT_CODE

    services.case_deliver(actor=clerk, case=parent, method="window")
    parent.refresh_from_db()
    assert parent.status == CaseStatus.DELIVERED
    assert {c.status for c in parent.children.all()} == {CaseStatus.DELIVERED}
    # One case, one timeline: the parent's and the children's events together.
    timeline = case_timeline(case=parent)
    subjects = {e.subject_id for e in timeline}
    assert subjects == {str(parent.pk), *(str(c.pk) for c in parent.children.all())}
    assert [e.kind for e in timeline].count("case.input_filled") == 3


def test_a_denied_licence_ends_the_items_that_need_it(startup):
    clerk = staff("chuangkou")
    applicant = Applicant.objects.create(
        kind=ApplicantKind.NATURAL, name="赵六", id_number="43098119900101001X"
    )
    form = answers(startup)
    parent = services.case_create(
        actor=clerk,
        applicant=applicant,
        channel="window",
        bundle=startup,
        form_data=form,
        hall=Hall.objects.get(name="沅江市政务服务中心"),
    )
    services.case_accept(actor=clerk, case=parent)
    licence = children_by_title(parent)["公司设立登记"]
    services.case_terminate(actor=staff("shenpi"), case=licence, reason="申请人注销申请")
    parent.refresh_from_db()
    children = children_by_title(parent)
    assert {c.status for c in children.values()} == {CaseStatus.TERMINATED}
    assert parent.status == CaseStatus.DENIED
