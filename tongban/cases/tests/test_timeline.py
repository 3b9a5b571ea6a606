"""The timeline as sentences, for staff, the applicant and the public: every kind of event the
services append reads as its own sentence, the public reads no one's words or names, a bundle's parts
do not repeat their parent, and events other apps will append read right for each audience."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tongban.cases import services
from tongban.cases.models import Case
from tongban.cases.selectors import case_timeline, case_uncovered_years
from tongban.cases.timeline import Audience, generic_sentence, sentence, timeline_of
from tongban.cases.workflow import StepStatus
from tongban.catalog.demo import load_demo_catalogue
from tongban.catalog.models import Bundle
from tongban.core.services import event_append
from tongban.org.models import Applicant, Hall, User
from tongban.timelimits.models import CalendarYear
from tongban.timelimits.selectors import covered_years

from .factories import FORM, item_for, make_world
from .test_bundles import answers

pytestmark = pytest.mark.django_db

AUDIENCES = list(Audience)


@pytest.fixture
def world():
    return make_world()


def window_case(world, version=None) -> Case:
    return services.case_create(
        actor=world.clerk,
        applicant=world.applicant,
        channel="window",
        version=version or world.item,
        form_data=FORM,
        hall=world.hall,
    )


def active(case):
    return list(case.steps.filter(status=StepStatus.ACTIVE).order_by("order"))


def approver_of(world, step):
    return world.other_approver if step.department_id == world.other.pk else world.approver


def pass_stage(world, case, opinion="同意"):
    for step in active(case):
        services.step_pass(actor=approver_of(world, step), step=step, opinion=opinion)


def kinds_the_services_append() -> set[str]:
    """Read from the services' source, so that a kind added there without a sentence fails here."""
    source = (Path(services.__file__)).read_text(encoding="utf-8")
    literal = r'"\w+"(?:\s+if\s+\w+\s+else\s+"\w+")?'
    found = re.findall(rf"_event\(\s*\w+,\s*({literal})", source)
    found += re.findall(rf"\bkind=({literal})", source)
    return {f"case.{k}" for group in found for k in re.findall(r'"(\w+)"', group)}


def lived_cases(world) -> list[Case]:
    """Cases driven through every road the services offer a single item."""
    # Supplement twice (a breach), accept with a tolerated material, pass, return, suspend, extend,
    # supply the material, decide, tell the applicant, deliver.
    a = window_case(world)
    for problem in ("缺少场所证明", "姓名有误"):
        services.case_request_supplement(
            actor=world.clerk,
            case=a,
            items=[{"kind": "material", "key": "premises", "problem": problem}],
        )
        services.case_supplement_submit(actor=world.clerk, case=a)
    premises = a.materials.get(material_type="premises")
    services.case_accept(
        actor=world.clerk,
        case=a,
        tolerated=[premises],
        owed_by=timezone.localdate() + dt.timedelta(days=7),
    )
    [review] = active(a)
    services.step_pass(actor=world.approver, step=review, opinion="材料齐全")
    [_, other] = active(a)
    services.step_return(actor=world.other_approver, step=other, to_step=review, reason="重审")
    services.case_suspend(
        actor=world.approver, case=a, kind="expert_review", reason="专家评审", expected_days=5
    )
    services.case_resume(actor=world.approver, case=a)
    extension = services.extension_request(actor=world.approver, case=a, days=5, reason="复杂")
    services.extension_decide(actor=world.head, extension=extension, grant=True)
    services.tolerated_material_supply(actor=world.clerk, material=premises)
    pass_stage(world, a)
    pass_stage(world, a)
    [decision] = active(a)
    services.step_decide(actor=world.head, step=decision, approve=True)
    services.case_ready_for_pickup(actor=world.clerk, case=a)
    services.case_deliver(actor=world.clerk, case=a, method="window")

    # A refused extension, a proposed denial, a denial, and the denial served.
    b = window_case(world)
    services.case_accept(actor=world.clerk, case=b)
    extension = services.extension_request(actor=world.approver, case=b, days=5, reason="复杂")
    services.extension_decide(actor=world.head, extension=extension, grant=False)
    [review] = active(b)
    services.step_propose_denial(actor=world.approver, step=review, reason="不符合条件")
    pass_stage(world, b)
    [decision] = active(b)
    services.step_decide(actor=world.head, step=decision, approve=False, reason="不符合法定条件")
    services.case_deliver(actor=world.clerk, case=b, method="window")

    # 告知承诺: decided at once, checked later, revoked.
    c = window_case(world)
    services.case_accept(actor=world.clerk, case=c, commitment=True, commitment_text="本人承诺")
    services.post_check_record(actor=world.approver, case=c, passed=False, note="经核查不符合")

    # Online: a draft with files, submitted, withdrawn by the applicant.
    d = services.case_create(
        actor=world.citizen,
        applicant=world.applicant,
        channel="online",
        version=world.item,
        form_data=FORM,
        submit=False,
    )
    for material in d.materials.all():
        services.upload_add(
            actor=world.citizen, case=d, material=material, name="a.pdf", content=b"%PDF-1.4 t"
        )
    services.case_submit(actor=world.citizen, case=d)
    services.case_withdraw(actor=world.citizen, case=d, reason="不办了")

    # Refused at the window; terminated while in progress.
    e = window_case(world)
    services.case_refuse(actor=world.clerk, case=e, reason="不属于本机关职权", basis="第三十二条")
    f = window_case(world)
    services.case_accept(actor=world.clerk, case=f)
    services.case_terminate(actor=world.approver, case=f, reason="申请人死亡")
    return [a, b, c, d, e, f]


@pytest.fixture
def startup():
    load_demo_catalogue()
    return Bundle.objects.get(code="430981-YJS-001")


def bundle_case(startup) -> Case:
    """开办企业 accepted: the licence runs, the items that need its credit code wait, then start."""
    clerk = User.objects.get(username="chuangkou")
    parent = services.case_create(
        actor=clerk,
        applicant=Applicant.objects.get(id_number="430981199503152021"),
        channel="window",
        bundle=startup,
        form_data=answers(startup),
        hall=Hall.objects.get(name="沅江市政务服务中心"),
    )
    services.case_accept(
        actor=clerk, case=parent, checklist={m.pk: True for m in parent.materials.all()}
    )
    licence = parent.children.get(title="公司设立登记")
    [step] = licence.steps.filter(status=StepStatus.ACTIVE)
    services.step_pass(
        actor=User.objects.get(username="shenpi"),
        step=step,
        opinion="准予登记",
        outputs={"credit_code": "91430981MA4L000017"},
    )
    return parent


# --- every kind has its sentence ------------------------------------------------------------------


def assert_each_has_its_sentence(events) -> None:
    for event in events:
        for audience in AUDIENCES:
            text = sentence(event.kind, event.payload, audience=audience)
            assert text != generic_sentence(), (event.kind, audience, event.payload)
            assert text is None or ("%(" not in text and "{" not in text), (event.kind, text)


# Only a bundle's parts wait for and take in another part's result; the bundle test reads those.
BUNDLE_ONLY = {"case.waiting", "case.input_filled"}


def test_every_kind_the_services_append_reads_as_its_own_sentence(world):
    expected = kinds_the_services_append()
    assert {"case.created", "case.served", "case.revoked"} | BUNDLE_ONLY <= expected

    events = [e for case in lived_cases(world) for e in case_timeline(case=case)]

    # The drive above covers every kind the services can append, so none goes unread.
    assert expected - {e.kind for e in events} == BUNDLE_ONLY
    assert_each_has_its_sentence(events)


def test_the_kinds_only_a_bundle_appends_read_as_their_own_sentences(startup):
    events = case_timeline(case=bundle_case(startup))

    assert {e.kind for e in events} >= BUNDLE_ONLY
    assert_each_has_its_sentence(events)


def test_an_unknown_kind_still_reads_as_a_sentence_but_another_apps_only_for_staff():
    assert sentence("case.something_new", {}, audience=Audience.PUBLIC) == generic_sentence()
    assert sentence("review.something_new", {}, audience=Audience.STAFF) == generic_sentence()
    assert sentence("review.something_new", {}, audience=Audience.APPLICANT) is None
    assert sentence("review.something_new", {}, audience=Audience.PUBLIC) is None


# --- what the public reads -----------------------------------------------------------------------

OPINION = "厨房油烟直排未整改"


def test_the_public_reads_progress_without_anyones_words_or_names(world, client):
    cache.clear()
    case = window_case(world)
    services.case_request_supplement(
        actor=world.clerk,
        case=case,
        items=[{"kind": "material", "key": "premises", "problem": "租赁合同已过期"}],
    )
    services.case_supplement_submit(actor=world.clerk, case=case)
    services.case_accept(actor=world.clerk, case=case)
    [review] = active(case)
    services.step_pass(actor=world.approver, step=review, opinion=OPINION)
    services.case_suspend(
        actor=world.approver,
        case=case,
        kind="hearing",
        reason="听证：邻居王二反对",
        expected_days=5,
    )
    services.case_resume(actor=world.approver, case=case)
    extension = services.extension_request(
        actor=world.approver, case=case, days=3, reason="等待张科长回来"
    )
    services.extension_decide(actor=world.head, extension=extension, grant=True)
    services.case_terminate(actor=world.approver, case=case, reason="申请人王五电话要求终止")
    private = [OPINION, "租赁合同已过期", "邻居王二", "张科长", "王五", FORM["mobile"]]

    public = " ".join(e.text for e in timeline_of(case, audience=Audience.PUBLIC))
    applicant = " ".join(e.text for e in timeline_of(case, audience=Audience.APPLICANT))
    staff = timeline_of(case, audience=Audience.STAFF)

    assert "市场监督管理局已完成“审查”" in public and "依法延期3个工作日" in public
    for words in private:
        assert words not in public, words
    assert all(e.who == "" for e in timeline_of(case, audience=Audience.PUBLIC))
    # The applicant reads what was asked of them and why their case ended, not the opinions.
    assert "租赁合同已过期" in applicant and "申请人王五电话要求终止" in applicant
    assert OPINION not in applicant and "张科长" not in applicant
    # Staff read everything, and who did it.
    staff_text = " ".join(e.text for e in staff)
    assert OPINION in staff_text and "张科长" in staff_text and "邻居王二" in staff_text
    assert any(e.who for e in staff)

    page = client.get(reverse("cases:track"), {"number": case.number, "code": case.query_code})
    html = page.content.decode()
    assert page.status_code == 200 and "依法延期3个工作日" in html
    for words in private:
        assert words not in html, words


# --- a bundle's parts do not repeat their parent ---------------------------------------------------


def test_a_bundles_parts_do_not_echo_the_parent(startup):
    parent = bundle_case(startup)
    parts = parent.children.count()
    kinds = [e.kind for e in case_timeline(case=parent)]
    assert kinds.count("case.submitted") == parts + 1  # the echoes are there to be folded

    for audience in AUDIENCES:
        entries = timeline_of(parent, audience=audience)
        submitted = [e for e in entries if e.text == "提交申请"]
        assert len(submitted) == 1 and submitted[0].part == "", audience
        # What happened to a part alone is shown, tagged with the part.
        assert any(e.part == "公章刻制备案" for e in entries), audience
    staff = timeline_of(parent, audience=Audience.STAFF)
    assert any("填入“统一社会信用代码”：91430981MA4L000017" in e.text for e in staff)


# --- what other apps will append on a case -------------------------------------------------------


def texts(case) -> dict[Audience, str]:
    return {a: " ".join(e.text for e in timeline_of(case, audience=a)) for a in AUDIENCES}


def test_cards_and_directives_are_for_staff_only(world):
    case = window_case(world)
    services.case_accept(actor=world.clerk, case=case)
    event_append(
        subject=case,
        kind="case.card_red",
        payload={"clock": "step", "step": "审查", "department_id": world.main.pk},
    )
    event_append(subject=case, kind="case.card_yellow", payload={"clock": "promised"})
    event_append(subject=case, kind="case.legal_overdue", payload={"clock": "legal"})
    event_append(
        subject=case,
        kind="case.directive_issued",
        payload={
            "department": "消防救援大队",
            "due": "2026-12-01T09:00:00+08:00",
            "text": "尽快核查",
        },
    )
    event_append(
        subject=case,
        kind="case.directive_replied",
        payload={"department": "消防救援大队", "text": "已安排核查"},
    )
    event_append(subject=case, kind="case.directive_closed", payload={"department": "消防救援大队"})
    event_append(
        subject=case, kind="case.directive_escalated", payload={"department": "消防救援大队"}
    )

    read = texts(case)

    assert "市场监督管理局“审查”的环节期限已超期（红牌）" in read[Audience.STAFF]
    assert "承诺办结期限仅剩最后一个工作日（黄牌）" in read[Audience.STAFF]
    assert "已超过法定期限：法定办结期限" in read[Audience.STAFF]
    assert "督办消防救援大队，限2026年12月01日前回复：尽快核查" in read[Audience.STAFF]
    assert "消防救援大队回复督办：已安排核查" in read[Audience.STAFF]
    assert "已升级" in read[Audience.STAFF] and "督办办结" in read[Audience.STAFF]
    for audience in (Audience.APPLICANT, Audience.PUBLIC):
        assert "牌" not in read[audience] and "督办" not in read[audience], audience
        assert "超" not in read[audience], audience
    assert generic_sentence() not in " ".join(read.values())


def test_the_applicant_sees_their_own_review_and_the_public_none(world):
    case = window_case(world)
    event_append(
        subject=case, kind="review.submitted", payload={"level": "dissatisfied", "text": "排队太久"}
    )
    event_append(subject=case, kind="review.refused_attempt", payload={"level": "very_satisfied"})
    event_append(
        subject=case,
        kind="review.rectified",
        payload={"level": "dissatisfied", "reply": "已增开窗口"},
    )

    read = texts(case)

    assert "申请人评价：不满意：排队太久" in read[Audience.STAFF]
    assert "一次评价未被接受（非常满意）" in read[Audience.STAFF]
    assert "差评已整改：已增开窗口" in read[Audience.STAFF]
    assert "您的评价：不满意" in read[Audience.APPLICANT]
    assert "您反映的问题已整改：已增开窗口" in read[Audience.APPLICANT]
    assert "未被接受" not in read[Audience.APPLICANT]
    assert "评价" not in read[Audience.PUBLIC] and "整改" not in read[Audience.PUBLIC]


# --- due dates in a year no holiday table covers --------------------------------------------------

WARNING = "年的法定节假日安排尚未录入，该年期限暂按周一至周五计算，请以录入节假日后的期限为准。"


def test_a_due_date_in_an_uncovered_year_is_shown_with_a_warning(world):
    # given: an item whose legal limit reaches past the last year the tables cover
    long_item = item_for(world.main, world.other, legal_limit=60, promised_limit=10)
    case = window_case(world, version=long_item)
    services.case_accept(actor=world.clerk, case=case)
    case.refresh_from_db()
    year = timezone.localtime(case.legal_due).year
    assert year not in covered_years()

    # then: the selector names the year, and both the clerk's and the applicant's pages warn
    assert year in case_uncovered_years(case=case)
    staff = Client()
    staff.force_login(world.clerk)
    applicant = Client()
    applicant.force_login(world.citizen)
    for page in (
        staff.get(f"/cases/{case.pk}/"),
        applicant.get(reverse("cases:portal_case", args=[case.pk])),
    ):
        html = page.content.decode()
        assert page.status_code == 200
        assert 'data-testid="uncovered-years"' in html and f"{year}{WARNING}" in html

    # when: the year's holidays are recorded, the warning goes
    for missing in case_uncovered_years(case=case):
        CalendarYear.objects.create(year=missing, source="notice")
    assert case_uncovered_years(case=case) == []
    assert "uncovered-years" not in staff.get(f"/cases/{case.pk}/").content.decode()
