"""Notices (文书) as the applicant reads them: which exist, what the PDF says, the QR code, and who may
download them and the files handed in."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, include, path, reverse
from django.utils import timezone

from tongban.cases import notices, services
from tongban.cases.models import Case
from tongban.cases.workflow import StepStatus
from tongban.catalog.demo import load_demo_catalogue
from tongban.catalog.models import Bundle
from tongban.catalog.selectors import bundle_merged_form
from tongban.org.models import AccountKind, Applicant, Hall, User
from tongban.org.tests.factories import ApplicantFactory, UserFactory
from tongban.timelimits.selectors import calendar_for

from .factories import FORM, World, item_for, make_world

pytestmark = pytest.mark.django_db


# --- the public tracking page, which the portal provides; a stand-in while it does not exist ---


def _tracking_stand_in(request: HttpRequest) -> HttpResponse:
    return HttpResponse("track")


urlpatterns = [
    path(
        "",
        include(
            (
                [
                    path("track/", _tracking_stand_in, name="track"),
                    path("", include("tongban.cases.urls.documents")),
                ],
                "cases",
            )
        ),
    ),
    path("", include("tongban.urls")),
]


@pytest.fixture(autouse=True)
def tracking_route(settings):
    try:
        reverse("cases:track")
    except NoReverseMatch:
        settings.ROOT_URLCONF = __name__


@pytest.fixture(autouse=True)
def media(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


# --- cases driven through the services ------------------------------------------------------------


@pytest.fixture
def world() -> World:
    return make_world()


def window_case(world: World) -> Case:
    return services.case_create(
        actor=world.clerk,
        applicant=world.applicant,
        channel="window",
        version=world.item,
        form_data=FORM,
        hall=world.hall,
    )


def pass_until_decision(world: World, case: Case) -> None:
    """Every review step passed by its own department, up to the head's decision step."""
    while True:
        steps = list(case.steps.filter(status=StepStatus.ACTIVE).order_by("order"))
        if not steps or steps[0].kind == "decision":
            return
        for step in steps:
            actor = world.other_approver if step.department_id == world.other.pk else world.approver
            services.step_pass(actor=actor, step=step, opinion="同意")


def decide(world: World, case: Case, *, approve: bool, reason: str = "") -> Case:
    pass_until_decision(world, case)
    [decision] = case.steps.filter(status=StepStatus.ACTIVE)
    services.step_decide(actor=world.head, step=decision, approve=approve, reason=reason)
    case.refresh_from_db()
    return case


SUPPLEMENT_FIRST = [
    {"kind": "material", "key": "premises", "problem": "场所证明未加盖公章"},
    {"kind": "material", "key": "application", "problem": "申请书缺少申请人签字"},
    {"kind": "field", "key": "mobile", "problem": "联系电话无法接通，请核实"},
]


@pytest.fixture
def full_life(world: World) -> Case:
    """Two supplement requests, acceptance, a hearing, an extension, approval, window pickup."""
    case = window_case(world)
    services.case_request_supplement(actor=world.clerk, case=case, items=SUPPLEMENT_FIRST)
    services.case_supplement_submit(actor=world.clerk, case=case)
    services.case_request_supplement(
        actor=world.clerk,
        case=case,
        items=[{"kind": "material", "key": "premises", "problem": "场所证明已过有效期"}],
    )
    services.case_supplement_submit(actor=world.clerk, case=case)
    services.case_accept(actor=world.clerk, case=case)
    services.case_suspend(
        actor=world.approver,
        case=case,
        kind="hearing",
        reason="利害关系人申请听证",
        expected_days=15,
    )
    services.case_resume(actor=world.approver, case=case)
    extension = services.extension_request(
        actor=world.approver, case=case, days=10, reason="需补充现场核查"
    )
    services.extension_decide(actor=world.head, extension=extension, grant=True)
    decide(world, case, approve=True, reason="符合法定条件")
    services.case_deliver(actor=world.clerk, case=case, method="window")
    case.refresh_from_db()
    return case


def kinds_of(case: Case) -> list[tuple[str, int | None]]:
    return [(k.kind, k.index) for k in notices.notice_kinds_for(case)]


def reading_date(day: dt.date) -> str:
    return f"{day.year}年{day.month:02d}月{day.day:02d}日"


# --- which notices exist ------------------------------------------------------------------------


def test_a_submitted_case_has_no_notice_yet(world):
    case = window_case(world)

    assert notices.notice_kinds_for(case) == []


def test_the_notices_follow_the_history_of_the_case(full_life):
    assert kinds_of(full_life) == [
        ("supplement", 1),
        ("supplement", 2),
        ("acceptance", None),
        ("special-procedure", 1),
        ("extension", None),
        ("approval", None),
        ("service-receipt", None),
    ]


def test_a_refused_case_has_only_the_refusal(world):
    case = window_case(world)
    services.case_refuse(
        actor=world.clerk, case=case, reason="不属于本机关职权范围", basis="行政许可法第三十二条"
    )
    case.refresh_from_db()

    assert kinds_of(case) == [("refusal", None)]


def test_a_denied_case_has_the_denial_and_a_receipt_to_serve_it(world):
    case = window_case(world)
    services.case_accept(actor=world.clerk, case=case)
    case = decide(world, case, approve=False, reason="经营场所不符合消防安全要求")

    assert kinds_of(case) == [("acceptance", None), ("denial", None), ("service-receipt", None)]


def test_a_requested_extension_is_no_notice_until_it_is_granted(world):
    case = window_case(world)
    services.case_accept(actor=world.clerk, case=case)
    services.extension_request(actor=world.approver, case=case, days=5, reason="情况复杂")
    case.refresh_from_db()

    assert kinds_of(case) == [("acceptance", None)]


# --- remedies -----------------------------------------------------------------------------------


def test_remedies_name_the_government_of_the_region_and_the_time_limits(world):
    case = window_case(world)

    review, litigation = notices.remedies_for(case)

    assert review.body == "沅江市人民政府"
    assert "六十日" in review.text and "行政复议法》第二十条" in review.text
    assert "沅江市人民政府申请行政复议" in review.text
    assert "六个月" in litigation.text and "行政诉讼法》第四十六条" in litigation.text
    assert "人民法院" in litigation.text


@pytest.mark.parametrize(
    ("days", "unit", "shown"),
    [
        (10, "working", "10个工作日"),
        (30, "natural", "30个自然日"),
        (0, "working", "即办（当场办结）"),
    ],
)
def test_a_limit_reads_in_working_or_natural_days(days, unit, shown):
    assert notices.limit_text(days, unit) == shown


# --- the PDFs, read back ------------------------------------------------------------------------

requires_poppler = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("pdftotext", "pdftoppm", "pdffonts", "zbarimg")),
    reason="poppler-utils 和 zbar-tools 未安装",
)


def run(*args: str | Path) -> str:
    return subprocess.run([str(a) for a in args], check=True, capture_output=True, text=True).stdout


def tracking_url(case: Case) -> str:
    return f"http://testserver{notices.tracking_path(case)}"


def render(case: Case, kind: str, index: int | None, folder: Path) -> Path:
    pdf = notices.notice_pdf(case=case, kind=kind, index=index, tracking_url=tracking_url(case))
    target = folder / f"{kind}-{index or 0}.pdf"
    target.write_bytes(pdf)
    return target


def text_of(pdf: Path) -> str:
    """The text as a reader sees it, without the line breaks and spaces of the layout."""
    return "".join(run("pdftotext", pdf, "-").split())


@requires_poppler
def test_every_notice_of_a_case_reads_back_with_the_case_and_its_dates(full_life, tmp_path):
    # given
    case = full_life
    calendar = calendar_for(case.region).without_warnings()
    accepted_on = timezone.localtime(case.accepted_at).date()
    # the hearing started and ended on the same day: only the 10 days of the extension move it
    promised = calendar.add_working_days(accepted_on, 10 + 10)
    legal = calendar.add_working_days(accepted_on, 20 + 10)

    for kind, index in kinds_of(case):
        # when
        text = text_of(render(case, kind, index, tmp_path))

        # then: what every notice says
        for expected in [
            case.number,
            "王五",
            "市场监督管理局",
            world_item_name(case),
            f"查询码{case.query_code}",
        ]:
            assert expected in text, (kind, index, expected)
        if kind == "supplement":
            # issued before acceptance: the limit counts from an acceptance yet to come
            assert "10个工作日（自受理之日起计算）" in text, index
            assert reading_date(promised) not in text, index
        else:
            for expected in [
                f"受理日期{reading_date(accepted_on)}",
                f"10个工作日，依法延长10个工作日，至{reading_date(promised)}",
                f"20个工作日，依法延长10个工作日，至{reading_date(legal)}",
            ]:
                assert expected in text, (kind, index, expected)


def world_item_name(case: Case) -> str:
    assert case.version is not None
    return case.version.name


@requires_poppler
def test_each_supplement_notice_lists_every_item_and_says_which_time_it_is(full_life, tmp_path):
    first = text_of(render(full_life, "supplement", 1, tmp_path))
    second = text_of(render(full_life, "supplement", 2, tmp_path))

    assert "补正材料通知书" in first and "一次性告知书" in first
    for name, problem in [
        ("场所证明", "场所证明未加盖公章"),
        ("申请书", "申请书缺少申请人签字"),
        ("联系电话", "联系电话无法接通，请核实"),
    ]:
        assert f"{name}{problem}" in first, name
    assert "共3项" in first
    assert "第1次补正告知" in first
    assert "第2次补正告知" in second
    assert "场所证明已过有效期" in second and "未加盖公章" not in second


@requires_poppler
def test_the_special_procedure_and_extension_notices_give_kind_reason_and_time(full_life, tmp_path):
    hearing = text_of(render(full_life, "special-procedure", 1, tmp_path))
    extension = text_of(render(full_life, "extension", None, tmp_path))

    assert "特别程序告知书" in hearing
    assert "听证" in hearing and "利害关系人申请听证" in hearing
    assert "15个工作日" in hearing
    assert "不计算在办理时限内" in hearing
    assert "延期告知书" in extension
    assert "延长期限10个工作日" in extension and "需补充现场核查" in extension


@requires_poppler
def test_the_approval_and_the_receipt(full_life, tmp_path):
    approval = text_of(render(full_life, "approval", None, tmp_path))
    receipt = text_of(render(full_life, "service-receipt", None, tmp_path))

    assert "准予许可决定书" in approval and "测试许可证" in approval
    assert "送达回证" in receipt
    assert "窗口领取" in receipt
    assert "受送达人签名" in receipt
    assert "准予许可决定书" in receipt


@requires_poppler
def test_refusal_gives_reason_basis_and_remedies(world, tmp_path):
    case = window_case(world)
    services.case_refuse(
        actor=world.clerk,
        case=case,
        reason="申请事项不属于本机关职权范围",
        basis="《中华人民共和国行政许可法》第三十二条",
    )
    case.refresh_from_db()

    text = text_of(render(case, "refusal", None, tmp_path))

    assert "不予受理决定书" in text
    assert "申请事项不属于本机关职权范围" in text
    assert "《中华人民共和国行政许可法》第三十二条" in text
    assert "六十日内向沅江市人民政府申请行政复议" in text
    assert "六个月内依法向有管辖权的人民法院提起行政诉讼" in text


@requires_poppler
def test_denial_gives_reason_and_remedies(world, tmp_path):
    case = window_case(world)
    services.case_accept(actor=world.clerk, case=case)
    case = decide(world, case, approve=False, reason="经营场所不符合消防安全要求")

    text = text_of(render(case, "denial", None, tmp_path))

    assert "不予许可决定书" in text
    assert "经营场所不符合消防安全要求" in text
    assert "六十日" in text and "六个月" in text


@requires_poppler
def test_the_fonts_travel_with_the_document(full_life, tmp_path):
    lines = run("pdffonts", render(full_life, "acceptance", None, tmp_path)).splitlines()[2:]

    assert any("NotoSerifCJK" in line.replace("-", "") for line in lines), lines
    assert lines and all(line.split()[-5] == "yes" for line in lines), lines


@requires_poppler
def test_the_qr_code_opens_the_tracking_page_with_number_and_code(full_life, tmp_path):
    pdf = render(full_life, "acceptance", None, tmp_path)
    run("pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", pdf, tmp_path / "page")
    (page,) = tmp_path.glob("page*.png")

    decoded = run("zbarimg", "--raw", "-q", page).strip()

    assert decoded == (
        f"http://testserver/track/?number={full_life.number}&code={full_life.query_code}"
    )


@requires_poppler
def test_a_due_date_in_a_year_without_a_holiday_table_is_flagged_on_the_notice(world, tmp_path):
    # given: a limit so long that the legal due date lies in a year no table covers yet
    world.item = item_for(world.main, world.other, legal_limit=600, promised_limit=300)
    case = window_case(world)
    services.case_accept(actor=world.clerk, case=case)
    case.refresh_from_db()

    # when
    text = text_of(render(case, "acceptance", None, tmp_path))

    # then
    assert "年的法定节假日安排尚未公布" in text
    assert "暂按周一至周五为工作日计算" in text


@pytest.fixture
def startup_application() -> Case:
    """开办企业 from the demo catalogue, applied for at the window and not answered yet."""
    load_demo_catalogue()
    bundle = Bundle.objects.get(code="430981-YJS-001")
    return services.case_create(
        actor=User.objects.get(username="chuangkou"),
        applicant=Applicant.objects.get(id_number="430981199503152021"),
        channel="window",
        bundle=bundle,
        form_data=bundle_answers(bundle),
        hall=Hall.objects.get(name="沅江市政务服务中心"),
    )


@pytest.fixture
def startup_bundle(startup_application) -> Case:
    services.case_accept(actor=User.objects.get(username="chuangkou"), case=startup_application)
    startup_application.refresh_from_db()
    return startup_application


BUNDLE_FORM = {
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


def bundle_answers(bundle: Bundle) -> dict[str, str]:
    """The merged form filled in: known answers, the first option of a choice, 1 elsewhere."""
    return {
        spec.key: BUNDLE_FORM.get(spec.key) or (spec.choices[0] if spec.choices else "1")
        for spec in bundle_merged_form(bundle=bundle)
    }


@requires_poppler
def test_a_bundle_gets_one_combined_notice_listing_each_item(startup_bundle, tmp_path):
    # given
    children = list(startup_bundle.children.select_related("department"))
    licence = next(c for c in children if c.title == "公司设立登记")

    # when
    text = text_of(render(startup_bundle, "acceptance", None, tmp_path))

    # then
    assert "受理通知书" in text and startup_bundle.number in text
    for child in children:
        assert child.title in text, child.title
        assert child.department.name in text, child.title
    assert (
        f"{licence.department.name}办理中{reading_date(timezone.localtime(licence.promised_due).date())}"
        in text
    )


@requires_poppler
def test_a_bundle_supplement_names_fields_as_the_merged_form_shows_them(
    startup_application, tmp_path
):
    services.case_request_supplement(
        actor=User.objects.get(username="chuangkou"),
        case=startup_application,
        items=[{"kind": "field", "key": "company_name", "problem": "名称与核准的名称不一致"}],
    )
    startup_application.refresh_from_db()

    text = text_of(render(startup_application, "supplement", 1, tmp_path))

    assert "填报内容企业名称名称与核准的名称不一致" in text


# --- the pages ------------------------------------------------------------------------------------


def notice_url(case: Case, kind: str, index: int | None = None) -> str:
    kwargs: dict[str, object] = {"case_id": case.pk, "kind": kind}
    if index is not None:
        kwargs["index"] = index
    return reverse("cases:notice_pdf", kwargs=kwargs)


@pytest.fixture
def accepted(world: World) -> Case:
    case = window_case(world)
    services.case_request_supplement(actor=world.clerk, case=case, items=SUPPLEMENT_FIRST)
    services.case_supplement_submit(actor=world.clerk, case=case)
    services.case_accept(actor=world.clerk, case=case)
    case.refresh_from_db()
    return case


def other_applicant() -> User:
    account = UserFactory(kind=AccountKind.APPLICANT, mobile="13900139000")
    ApplicantFactory(name="赵六", account=account)
    return account


def test_the_owner_sees_the_list_and_downloads_a_notice(client, world, accepted):
    client.force_login(world.citizen)

    page = client.get(reverse("cases:notices", kwargs={"case_id": accepted.pk}))
    pdf = client.get(notice_url(accepted, "acceptance"))

    assert page.status_code == 200
    body = page.content.decode()
    assert "受理通知书" in body and "补正材料通知书（第1次）" in body
    assert notice_url(accepted, "supplement", 1) in body
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert pdf["Content-Disposition"].startswith("attachment;")
    assert quote(f"受理通知书-{accepted.number}.pdf", safe="") in pdf["Content-Disposition"]
    assert f'filename="acceptance-{accepted.number}.pdf"' in pdf["Content-Disposition"]


@pytest.mark.parametrize("who", ["clerk", "approver", "other_approver", "supervisor"])
def test_staff_who_work_on_the_case_see_its_notices(client, world, accepted, who):
    client.force_login(getattr(world, who))

    response = client.get(reverse("cases:notices", kwargs={"case_id": accepted.pk}))

    assert response.status_code == 200


def test_another_applicant_gets_404(client, accepted):
    client.force_login(other_applicant())

    assert client.get(reverse("cases:notices", kwargs={"case_id": accepted.pk})).status_code == 404
    assert client.get(notice_url(accepted, "acceptance")).status_code == 404


def test_staff_of_another_department_get_404(client, world, accepted):
    client.force_login(world.stranger)

    assert client.get(reverse("cases:notices", kwargs={"case_id": accepted.pk})).status_code == 404
    assert client.get(notice_url(accepted, "acceptance")).status_code == 404


@pytest.mark.parametrize(
    ("kind", "index"),
    [
        ("nonsense", None),  # no such kind
        ("approval", None),  # not decided yet
        ("supplement", 2),  # only one supplement was asked
        ("supplement", None),  # which one?
        ("acceptance", 1),  # there is one acceptance, without a number
    ],
)
def test_a_notice_the_case_does_not_have_is_404(client, world, accepted, kind, index):
    client.force_login(world.citizen)

    assert client.get(notice_url(accepted, kind, index)).status_code == 404


def test_signing_in_comes_first(client, accepted):
    response = client.get(notice_url(accepted, "acceptance"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:sign_in"))


def test_an_unknown_case_is_404(client, world):
    client.force_login(world.clerk)

    assert client.get(reverse("cases:notices", kwargs={"case_id": 999999})).status_code == 404


def test_a_case_without_notices_says_so(client, world):
    case = window_case(world)
    client.force_login(world.clerk)

    response = client.get(reverse("cases:notices", kwargs={"case_id": case.pk}))

    assert "该办件暂无文书" in response.content.decode()


# --- files handed in ------------------------------------------------------------------------------

PDF_BYTES = b"%PDF-1.4 the applicant's premises certificate"


@pytest.fixture
def upload(world: World):
    case = services.case_create(
        actor=world.citizen,
        applicant=world.applicant,
        channel="online",
        version=world.item,
        form_data=FORM,
        submit=False,
    )
    material = case.materials.get(material_type="premises")
    return services.upload_add(
        actor=world.citizen, case=case, material=material, name="场所证明.pdf", content=PDF_BYTES
    )


def file_url(upload) -> str:
    return reverse("cases:upload_file", kwargs={"upload_id": upload.pk})


def test_the_owner_downloads_the_file_as_an_attachment_of_its_sniffed_type(client, world, upload):
    client.force_login(world.citizen)

    response = client.get(file_url(upload))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF_BYTES
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert quote("场所证明.pdf", safe="") in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_the_implementing_department_downloads_the_file_once_submitted(client, world, upload):
    client.force_login(world.approver)
    # A draft is the applicant's alone: its files are not the office's to read yet.
    assert client.get(file_url(upload)).status_code == 404
    for material in upload.case.materials.exclude(
        pk__in=upload.case.materials.filter(uploads=upload)
    ):
        services.upload_add(
            actor=world.citizen,
            case=upload.case,
            material=material,
            name="a.pdf",
            content=PDF_BYTES,
        )
    services.case_submit(actor=world.citizen, case=upload.case)

    assert client.get(file_url(upload)).status_code == 200


@pytest.mark.parametrize("who", ["stranger", "other_applicant"])
def test_nobody_else_gets_the_file(client, world, upload, who):
    client.force_login(other_applicant() if who == "other_applicant" else world.stranger)

    assert client.get(file_url(upload)).status_code == 404


def test_an_unknown_file_is_404(client, world, upload):
    client.force_login(world.citizen)

    response = client.get(reverse("cases:upload_file", kwargs={"upload_id": uuid.uuid4()}))

    assert response.status_code == 404
