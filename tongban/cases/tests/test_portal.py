"""The applicant's pages: apply, drafts, uploads, my cases, supplement, withdrawal, public tracking.

Every door gets its bad input: unknown items, other people's cases, forged codes, oversize and
disguised files, malformed forms. What is asserted is what the applicant sees and what is stored.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from tongban.cases import services
from tongban.cases.models import Case, MaterialStatus, Upload
from tongban.cases.workflow import CaseStatus, StepStatus
from tongban.org.models import AccountKind, Applicant
from tongban.org.tests.factories import ApplicantFactory, UserFactory

from .factories import FORM, make_world

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% a small test document\n"


@pytest.fixture(autouse=True)
def media_and_cache(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world():
    return make_world()


@pytest.fixture
def citizen(client, world):
    client.force_login(world.citizen)
    return client


def apply_url(world) -> str:
    return reverse("cases:portal_apply", args=[world.item.item.local_code])


def pdf(name: str = "申请书.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def post_application(client, world, action="submit", files=True, **answers):
    data = {"applicant": world.applicant.pk, **FORM, **answers, "action": action}
    if files:
        data["material-application"] = pdf()
        data["material-premises"] = pdf("场所证明.pdf")
    return client.post(apply_url(world), data)


def error_of(response, name: str) -> list[str]:
    """The error messages shown next to the field called `name`."""
    html = response.content.decode()
    return re.findall(rf'<p class="error" data-field="{re.escape(name)}">([^<]*)</p>', html)


def another_citizen(mobile="13900139000") -> tuple:
    account = UserFactory(kind=AccountKind.APPLICANT, mobile=mobile)
    return account, ApplicantFactory(name="赵六", mobile=mobile, account=account)


def online_case(world, *, submit=True, applicant=None, actor=None):
    case = services.case_create(
        actor=actor or world.citizen,
        applicant=applicant or world.applicant,
        channel="online",
        version=world.item,
        form_data=FORM,
        submit=False,
    )
    for material in case.materials.all():
        services.upload_add(
            actor=actor or world.citizen, case=case, material=material, name="a.pdf", content=PDF
        )
    if submit:
        services.case_submit(actor=actor or world.citizen, case=case)
    case.refresh_from_db()
    return case


# --- applying ----------------------------------------------------------------------------------


def test_unknown_item_is_404(citizen):
    assert citizen.get("/apply/430981-NOSUCH/").status_code == 404
    assert citizen.get("/apply/bundle/NOSUCH/").status_code == 404


def test_applying_needs_a_portal_sign_in(client, world):
    response = client.get(apply_url(world))
    assert response.status_code == 302
    assert response["Location"] == reverse("web:portal_sign_in")


def test_apply_page_shows_the_schema_fields_and_a_file_input_per_material(citizen, world):
    response = citizen.get(apply_url(world))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="name"' in html and 'name="mobile"' in html and 'type="tel"' in html
    assert 'name="material-application"' in html and 'name="material-premises"' in html
    assert "保存草稿" in html and "提交申请" in html
    # The account's own applicant is chosen already.
    assert f'<option value="{world.applicant.pk}" selected>' in html


def test_submit_creates_the_case_and_shows_number_and_query_code(
    citizen, world, sms_outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_application(citizen, world)
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:portal_submitted", args=[case.pk])
    assert case.status == CaseStatus.SUBMITTED and case.channel == "online"
    assert case.form_data == FORM
    assert case.materials.get(material_type="application").uploads.get().sha256

    page = citizen.get(response["Location"]).content.decode()
    assert case.number in page and case.query_code in page
    assert "已通过短信发送" in page
    assert case.query_code in sms_outbox[-1].text


def test_malformed_form_shows_errors_next_to_fields_and_keeps_what_was_typed(citizen, world):
    response = post_application(citizen, world, files=False, name="王五", mobile="12345")

    assert response.status_code == 200
    assert error_of(response, "mobile") == ["手机号码应为 11 位数字，以 1 开头。"]
    html = response.content.decode()
    assert 'value="王五"' in html and 'value="12345"' in html
    # Nothing typed is lost: it waits in a draft, and the page now answers from the draft.
    draft = Case.objects.get()
    assert draft.status == CaseStatus.DRAFT and draft.form_data["mobile"] == "12345"
    draft_url = reverse("cases:portal_draft", args=[draft.pk])
    assert f'action="{draft_url}"' in html

    # when the fields are right, the missing files are named next to their materials
    response = citizen.post(draft_url, {**FORM, "action": "submit"})
    assert response.status_code == 200
    assert error_of(response, "mobile") == []
    assert error_of(response, "material-application") == ["请上传“申请书”。"]
    assert Case.objects.get().status == CaseStatus.DRAFT


def test_draft_is_saved_and_resumed_from_my_cases(citizen, world):
    response = post_application(citizen, world, action="draft", files=False, mobile="")
    draft = Case.objects.get()
    assert response["Location"] == reverse("cases:portal_draft", args=[draft.pk])
    assert draft.status == CaseStatus.DRAFT

    listing = citizen.get(reverse("cases:portal_cases")).content.decode()
    assert "草稿" in listing and "继续填写" in listing

    resumed = citizen.get(response["Location"]).content.decode()
    assert 'value="王五"' in resumed
    response = citizen.post(
        response["Location"],
        {**FORM, "action": "submit", "material-application": pdf(), "material-premises": pdf()},
    )
    draft.refresh_from_db()
    assert response.status_code == 302 and draft.status == CaseStatus.SUBMITTED
    assert Case.objects.count() == 1


def test_oversize_upload_is_refused_next_to_its_material_and_nothing_saved(
    citizen, world, settings
):
    settings.CASE_UPLOAD_MAX_BYTES = 100
    response = post_application(
        citizen, world, files=False, **{"material-application": pdf(content=PDF + b"x" * 200)}
    )
    assert response.status_code == 200
    assert error_of(response, "material-application") == ["文件超过大小限制（最大 100\xa0字节）。"]
    assert not Case.objects.exists() and not Upload.objects.exists()
    assert 'value="13800138000"' in response.content.decode()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "证明.pdf",
            b"MZ\x90\x00 an executable",
            "不支持的文件类型，请上传 PDF、JPG、PNG、OFD 文件。",
        ),
        ("photo.jpg", PDF, "文件内容与扩展名不符（内容是 PDF）。"),
    ],
)
def test_disguised_upload_is_refused_next_to_its_material(citizen, world, name, content, message):
    response = post_application(
        citizen, world, files=False, **{"material-premises": pdf(name=name, content=content)}
    )
    assert response.status_code == 200
    assert error_of(response, "material-premises") == [message]
    assert not Case.objects.exists() and not Upload.objects.exists()


def test_upload_to_a_draft_is_refused_the_same_way(citizen, world):
    draft = online_case(world, submit=False)
    Upload.objects.all().delete()
    response = citizen.post(
        reverse("cases:portal_draft", args=[draft.pk]),
        {**FORM, "action": "draft", "material-premises": pdf("x.pdf", b"GIF89a")},
    )
    assert response.status_code == 200
    assert error_of(response, "material-premises")
    assert not Upload.objects.exists()


def test_choosing_someone_elses_applicant_is_refused(citizen, world):
    _, stranger = another_citizen()
    response = post_application(citizen, world, applicant=stranger.pk)
    assert response.status_code == 200
    assert error_of(response, "applicant") == ["请选择申请人。"]
    assert not Case.objects.exists()


def test_an_account_without_applicant_registers_one_on_the_apply_page(client, world):
    account = UserFactory(kind=AccountKind.APPLICANT, mobile="13700137000")
    client.force_login(account)
    page = client.get(apply_url(world)).content.decode()
    assert "先登记申请人" in page and "提交申请" not in page

    bad = client.post(
        apply_url(world),
        {"action": "register", "register-kind": "natural", "register-name": "孙七"},
    )
    assert bad.status_code == 200
    assert error_of(bad, "id_number") and 'value="孙七"' in bad.content.decode()

    response = client.post(
        apply_url(world),
        {
            "action": "register",
            "register-kind": "natural",
            "register-name": "孙七",
            "register-id_number": "11010519491231002X",
        },
    )
    assert response.status_code == 302
    assert Applicant.objects.get(account=account).name == "孙七"
    assert "提交申请" in client.get(response["Location"]).content.decode()


# --- someone else's case -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "route", ["portal_case", "portal_draft", "portal_submitted", "portal_withdraw"]
)
def test_someone_elses_case_is_404(client, world, route):
    case = online_case(world)
    draft = online_case(world, submit=False)
    account, _ = another_citizen()
    client.force_login(account)
    for one in (case, draft):
        assert client.get(reverse(f"cases:{route}", args=[one.pk])).status_code == 404
    assert client.post(reverse("cases:portal_supplement", args=[case.pk])).status_code == 404
    assert client.post(reverse("cases:portal_withdraw", args=[case.pk])).status_code == 404
    assert Case.objects.get(pk=case.pk).status == CaseStatus.SUBMITTED


def test_a_draft_of_another_applicant_cannot_be_written(client, world):
    draft = online_case(world, submit=False)
    account, _ = another_citizen()
    client.force_login(account)
    response = client.post(
        reverse("cases:portal_draft", args=[draft.pk]), {**FORM, "name": "篡改", "action": "draft"}
    )
    assert response.status_code == 404
    draft.refresh_from_db()
    assert draft.form_data["name"] == "王五"


# --- my cases ----------------------------------------------------------------------------------


def test_my_cases_lists_only_mine_newest_first(citizen, world):
    first = online_case(world)
    second = online_case(world, submit=False)
    account, theirs = another_citizen()
    not_mine = online_case(world, applicant=theirs, actor=account)
    html = citizen.get(reverse("cases:portal_cases")).content.decode()
    assert html.index(second.number) < html.index(first.number)
    assert not_mine.number not in html


def test_case_page_tells_the_story_in_sentences(citizen, world):
    case = online_case(world)
    services.case_accept(actor=world.clerk, case=case)
    html = citizen.get(reverse("cases:portal_case", args=[case.pk])).content.decode()
    assert "办理中" in html
    assert "提交申请" in html and "已受理，承诺办结期限" in html
    assert "市场监督管理局 · 审查" in html  # who holds it: the department, not a person
    assert world.approver.username not in html
    assert '"from"' not in html and "case.accepted" not in html
    assert "撤回申请" in html
    assert f'href="{reverse("cases:notices", args=[case.pk])}"' in html


def test_supplement_notice_is_shown_and_answered_with_a_new_file(citizen, world, sms_outbox):
    case = online_case(world)
    services.case_request_supplement(
        actor=world.clerk,
        case=case,
        items=[
            {"kind": "material", "key": "premises", "name": "场所证明", "problem": "复印件不清晰"}
        ],
    )
    page = citizen.get(reverse("cases:portal_case", args=[case.pk])).content.decode()
    assert "待补正" in page and "复印件不清晰" in page
    assert 'name="material-premises"' in page and 'name="material-application"' not in page

    bad = citizen.post(
        reverse("cases:portal_supplement", args=[case.pk]),
        {"material-premises": pdf("场所.png", PDF)},
    )
    assert bad.status_code == 200
    assert error_of(bad, "material-premises") == ["文件内容与扩展名不符（内容是 PDF）。"]
    assert Case.objects.get(pk=case.pk).status == CaseStatus.SUPPLEMENT

    response = citizen.post(
        reverse("cases:portal_supplement", args=[case.pk]), {"material-premises": pdf("场所.pdf")}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.SUBMITTED
    assert case.materials.get(material_type="premises").uploads.count() == 2


def test_owed_tolerated_material_is_handed_in_online(citizen, world):
    case = online_case(world)
    premises = case.materials.get(material_type="premises")
    services.case_accept(
        actor=world.clerk,
        case=case,
        tolerated=[premises],
        owed_by=timezone.localdate() + dt.timedelta(days=7),
    )
    page = citizen.get(reverse("cases:portal_case", args=[case.pk])).content.decode()
    assert "待补齐的容缺材料" in page
    url = reverse("cases:portal_tolerated", args=[case.pk, premises.pk])

    bad = citizen.post(url, {"file": SimpleUploadedFile("a.pdf", b"")})
    assert bad.status_code == 200 and "文件是空的，请重新选择。" in bad.content.decode()

    assert citizen.post(url, {"file": pdf("场所.pdf")}).status_code == 302
    premises.refresh_from_db()
    case.refresh_from_db()
    assert premises.status == MaterialStatus.PROVIDED and case.tolerance_due is None


def test_withdraw_asks_first_and_is_refused_after_the_decision(citizen, world):
    case = online_case(world)
    url = reverse("cases:portal_withdraw", args=[case.pk])
    confirm = citizen.get(url)
    assert "确定要撤回吗" in confirm.content.decode()
    assert Case.objects.get(pk=case.pk).status == CaseStatus.SUBMITTED

    assert citizen.post(url, {"reason": "材料准备不全"}).status_code == 302
    assert Case.objects.get(pk=case.pk).status == CaseStatus.WITHDRAWN

    decided = online_case(world)
    services.case_accept(actor=world.clerk, case=decided, commitment=True, commitment_text="承诺")
    page = citizen.get(reverse("cases:portal_withdraw", args=[decided.pk])).content.decode()
    assert "不能撤回" in page
    citizen.post(reverse("cases:portal_withdraw", args=[decided.pk]))
    assert Case.objects.get(pk=decided.pk).status == CaseStatus.COMPLETED


# --- public tracking ---------------------------------------------------------------------------


def track(client, number, code):
    return client.get(reverse("cases:track"), {"number": number, "code": code})


def test_tracking_shows_status_timeline_and_a_masked_name(client, world):
    case = online_case(world)
    services.case_accept(actor=world.clerk, case=case)
    response = track(client, case.number, case.query_code.lower())
    html = response.content.decode()
    assert response.status_code == 200
    assert "办理中" in html and "已受理，承诺办结期限" in html
    assert "王*" in html and "王五" not in html and FORM["mobile"] not in html
    assert "市场监督管理局" in html


def test_wrong_or_unknown_number_and_code_answer_the_same_404(client, world):
    case = online_case(world)
    forged = track(client, case.number, "AAAAAAAA" if case.query_code != "AAAAAAAA" else "BBBBBBBB")
    unknown = track(client, "430981209901010000001", case.query_code)
    for response in (forged, unknown):
        assert response.status_code == 404
        assert "办件编号或查询码不正确" in response.content.decode()
        assert case.title not in response.content.decode()
    draft = online_case(world, submit=False)
    assert track(client, draft.number, draft.query_code).status_code == 404


def test_guessing_is_throttled_after_ten_failures(client, world):
    case = online_case(world)
    for _ in range(10):
        assert track(client, case.number, "WRONG234").status_code == 404
    blocked = track(client, case.number, case.query_code)
    assert blocked.status_code == 429 and blocked["Retry-After"] == "600"
    assert "查询失败次数过多" in blocked.content.decode()
    # Another address is not held back by this one's guessing.
    other = client.get(
        reverse("cases:track"),
        {"number": case.number, "code": case.query_code},
        REMOTE_ADDR="10.0.0.2",
    )
    assert other.status_code == 200


def test_the_tracking_form_without_parameters_is_just_the_form(client):
    response = client.get(reverse("cases:track"))
    assert response.status_code == 200
    assert 'name="number"' in response.content.decode()


# --- 一件事 -------------------------------------------------------------------------------------


@pytest.fixture
def opening_a_company(demo):
    from tongban.catalog.demo import load_demo_catalogue
    from tongban.catalog.models import Bundle

    load_demo_catalogue()
    return Bundle.objects.get(code="430981-YJS-001")


BUNDLE_FORM = {
    "company_name": "沅江市通办科技有限公司",
    "enterprise_type": "有限责任公司",
    "legal_representative": "王五",
    "id_number": "11010519491231002X",
    "mobile": "13800138000",
    "registered_capital": "100",
    "registered_address": "沅江市琼湖街道",
    "business_scope": "软件开发",
    "seal_kinds": "法定名称章",
    "invoice_kind": "数电发票（普通发票）",
    "employees": "5",
}


def test_bundle_apply_page_asks_one_form_and_one_set_of_materials(client, opening_a_company):
    account, applicant = another_citizen()
    client.force_login(account)
    url = reverse("cases:portal_apply_bundle", args=[opening_a_company.code])
    html = client.get(url).content.decode()
    assert "开办企业" in html
    assert html.count('name="mobile"') == 1
    assert 'name="company_name"' in html and 'name="employees"' in html
    assert "免提交：由电子证照库调取" in html  # the ID card comes from the certificate library
    assert 'name="material-id-card"' not in html

    files = {
        "material-application-form": pdf(),
        "material-company-articles": pdf("章程.pdf"),
        "material-premises-proof": pdf("场所.pdf"),
    }
    bad = client.post(
        url,
        {
            "applicant": applicant.pk,
            **BUNDLE_FORM,
            "employees": "很多",
            "action": "submit",
            **files,
        },
    )
    assert bad.status_code == 200 and error_of(bad, "employees") == ["参保职工人数应为数字。"]

    parent = Case.objects.get(parent__isnull=True)
    files = {k: pdf(v.name) for k, v in files.items()}
    response = client.post(
        reverse("cases:portal_draft", args=[parent.pk]),
        {**BUNDLE_FORM, "action": "submit", **files},
    )
    assert response.status_code == 302
    parent.refresh_from_db()
    assert parent.status == CaseStatus.SUBMITTED and parent.children.count() == 4
    page = client.get(reverse("cases:portal_case", args=[parent.pk])).content.decode()
    for child in parent.children.all():
        assert child.title in page
    assert page.count("提交申请") == 1  # one timeline: the parts do not repeat the parent


def test_steps_are_named_by_department_in_the_timeline(citizen, world):
    case = online_case(world)
    services.case_accept(actor=world.clerk, case=case)
    [review] = case.steps.filter(status=StepStatus.ACTIVE)
    services.step_pass(actor=world.approver, step=review, opinion="通过")
    html = citizen.get(reverse("cases:portal_case", args=[case.pk])).content.decode()
    assert "市场监督管理局已完成“审查”" in html
