"""The 好差评 pages and API as a person or a client meets them: status codes, messages, what shows."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from tongban.core.selectors import event_list_for
from tongban.core.services import event_append
from tongban.org.models import Role
from tongban.reviews import services
from tongban.reviews.models import Evaluation, Rectification

from .factories import concluded_case, make_world, staff

pytestmark = pytest.mark.django_db

BAD = {"level": "very_dissatisfied", "tags": ["attitude"], "text": "窗口态度差"}


@pytest.fixture
def world():
    return make_world()


def client_of(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def bad_review(world, case=None):
    case = case or concluded_case(world)
    return services.evaluation_by_applicant(
        actor=world.citizen, case=case, occasion="completion", **BAD
    )


# --- rating -------------------------------------------------------------------------------------


def test_the_portal_case_page_leads_to_the_rating_form(world):
    case = concluded_case(world)
    client = client_of(world.citizen)

    page = client.get(reverse("cases:portal_case", args=[case.pk]))

    rate_url = reverse("reviews:portal_rate", args=[case.pk])
    assert page.status_code == 200 and f'href="{rate_url}"' in text_of(page)
    form = client.get(rate_url)
    assert "办结服务" in text_of(form) and "非常不满意" in text_of(form)
    other = concluded_case(world)
    from tongban.cases.models import Case
    from tongban.org.tests.factories import ApplicantFactory

    Case.objects.filter(pk=other.pk).update(applicant=ApplicantFactory(name="赵六"))
    assert client.get(reverse("reviews:portal_rate", args=[other.pk])).status_code == 404


def test_a_bad_review_without_text_keeps_what_was_chosen_and_says_why(world):
    case = concluded_case(world)
    client = client_of(world.citizen)

    response = client.post(
        reverse("reviews:portal_rate", args=[case.pk]),
        {"occasion": "completion", "level": "dissatisfied", "tags": ["many_trips"], "text": ""},
    )

    assert response.status_code == 400
    page = text_of(response)
    assert '<p class="error" data-field="text">不满意的评价请写明具体情况，以便整改。</p>' in page
    assert re.search(r'value="dissatisfied"[^>]*checked', page)
    assert re.search(r'value="many_trips"[^>]*checked', page)
    assert not Evaluation.objects.exists()


def test_rating_from_the_portal_thanks_with_the_deadlines(world):
    case = concluded_case(world)
    client = client_of(world.citizen)

    response = client.post(
        reverse("reviews:portal_rate", args=[case.pk]),
        {"occasion": "completion", **BAD},
        follow=True,
    )

    rectification = Rectification.objects.get()
    page = text_of(response)
    assert "感谢您的评价" in page
    assert rectification.verify_due.astimezone().strftime("%Y年%m月%d日") in page
    assert "窗口态度差" in page  # the review box on the case page shows what was said


def test_the_tracking_page_leads_to_rating_with_the_query_code(world):
    case = concluded_case(world)
    public = client_of()

    tracked = public.get(reverse("cases:track"), {"number": case.number, "code": case.query_code})
    assert "评价本次服务" in text_of(tracked)
    wrong = public.get(reverse("reviews:rate"), {"number": case.number, "code": "WRONG123"})
    assert wrong.status_code == 404 and "办件编号或查询码不正确" in text_of(wrong)

    response = public.post(
        reverse("reviews:rate"),
        {
            "number": case.number,
            "code": case.query_code,
            "occasion": "completion",
            "level": "satisfied",
        },
    )

    assert response.status_code == 200 and "感谢您的评价！" in text_of(response)
    assert Evaluation.objects.get().channel == "query_code"


def test_a_clerk_with_the_query_code_is_refused_on_the_page_and_the_attempt_recorded(world):
    case = concluded_case(world)

    response = client_of(world.clerk).post(
        reverse("reviews:rate"),
        {
            "number": case.number,
            "code": case.query_code,
            "occasion": "completion",
            "level": "very_satisfied",
        },
    )

    assert response.status_code == 403
    assert "工作人员不能代替申请人评价" in text_of(response)
    assert not Evaluation.objects.exists()
    [event] = [e for e in event_list_for(subject=case) if e.kind == "review.refused_attempt"]
    assert event.actor == world.clerk and event.payload["reason"] == "staff"


def test_a_forged_link_is_refused_on_the_page(world):
    case = concluded_case(world)
    token = services.link_token(case=case, occasion="completion")

    response = client_of().get(reverse("reviews:rate"), {"t": token[:-2] + "xx"})

    assert response.status_code == 403 and "评价链接无效" in text_of(response)


def test_the_window_shows_a_qr_code_that_opens_the_signed_link(world):
    case = concluded_case(world)

    page = client_of(world.clerk).get(reverse("reviews:device", args=[case.pk]))

    assert page.status_code == 200 and "<svg" in text_of(page)
    url = re.search(r'<a href="(http://testserver/reviews/rate/\?t=[^"]+)"', text_of(page)).group(1)
    phone = client_of()
    form = phone.get(url.replace("&amp;", "&"))
    assert form.status_code == 200 and "提交评价" in text_of(form)
    token = re.search(r'name="t" value="([^"]+)"', text_of(form)).group(1)
    # The first code is for the acceptance at the window, the occasion the link names.
    phone.post(
        reverse("reviews:rate"),
        {"t": token, "via": "device", "occasion": "acceptance", "level": "satisfied"},
    )
    evaluation = Evaluation.objects.get()
    assert (evaluation.channel, evaluation.occasion) == ("device", "acceptance")
    assert (
        client_of(world.stranger).get(reverse("reviews:device", args=[case.pk])).status_code == 404
    )


# --- the department and the supervisor ------------------------------------------------------------


def test_the_department_sees_its_bad_reviews_and_others_do_not(world):
    bad = bad_review(world)
    url = reverse("reviews:rectification", args=[bad.rectification.pk])

    listing = client_of(world.approver).get(reverse("reviews:department"))

    assert url in text_of(listing)
    assert url not in text_of(client_of(world.other_approver).get(reverse("reviews:department")))
    assert client_of(world.other_approver).get(url).status_code == 404
    assert client_of(world.supervisor).get(url).status_code == 200


def test_verify_and_reply_on_the_rectification_page(world):
    bad = bad_review(world)
    client = client_of(world.approver)
    pk = bad.rectification.pk

    empty = client.post(reverse("reviews:verify", args=[pk]), {"verify-note": ""})
    assert empty.status_code == 400 and 'data-field="note"' in text_of(empty)
    client.post(reverse("reviews:verify", args=[pk]), {"verify-note": "电话回访属实"})
    replied = client.post(
        reverse("reviews:reply", args=[pk]), {"reply-reply": "已整改，致歉"}, follow=True
    )

    page = text_of(replied)
    assert "整改回复已发送给申请人" in page and "已整改回复" in page and "已整改，致歉" in page
    again = client.post(reverse("reviews:reply", args=[pk]), {"reply-reply": "再回复"})
    assert again.status_code == 409 and "不能回复" in text_of(again)


def test_an_appeal_is_filed_by_the_head_and_decided_by_the_supervisor(world):
    bad = bad_review(world)
    pk = bad.rectification.pk
    client_of(world.head).post(
        reverse("reviews:appeal", args=[pk]), {"appeal-evidence": "录像为证"}
    )
    appeal = bad.rectification.appeal

    assert client_of(world.approver).get(reverse("reviews:appeals")).status_code == 403
    missing = client_of(world.supervisor).post(
        reverse("reviews:appeal_decide", args=[appeal.pk]), {f"a{appeal.pk}-decision": "upheld"}
    )
    assert missing.status_code == 400
    done = client_of(world.supervisor).post(
        reverse("reviews:appeal_decide", args=[appeal.pk]),
        {f"a{appeal.pk}-decision": "upheld", f"a{appeal.pk}-reason": "证据充分"},
        follow=True,
    )

    assert "申诉成立，该差评不再计入统计" in text_of(done)
    assert Evaluation.objects.get(pk=bad.pk).excluded_from_statistics


def test_tracing_matches_a_bad_review_with_a_red_card_on_the_same_case_staff_item_department(world):
    bad = bad_review(world)
    case = bad.case
    step = case.steps.filter(handled_by=world.approver).first()
    event_append(
        subject=case,
        kind="case.card_red",
        payload={"clock": "step", "step": step.pk, "department_id": world.main.pk},
    )
    bad_review(world)  # a second bad review, without a card: the item and department weigh more

    page = text_of(client_of(world.supervisor).get(reverse("reviews:tracing")))

    case_section = page.split('data-testid="trace-case"')[1].split("</section>")[0]
    assert case.number in case_section and case_section.count("<tr>") == 2  # head + one
    staff_section = page.split('data-testid="trace-staff"')[1].split("</section>")[0]
    assert world.approver.display_name in staff_section
    department_section = page.split('data-testid="trace-department"')[1].split("</section>")[0]
    assert re.search(
        r"市场监督管理局</td><td[^>]*>2</td><td[^>]*>0</td><td[^>]*>1</td>", department_section
    )
    assert client_of(world.approver).get(reverse("reviews:tracing")).status_code == 403


# --- the public page ----------------------------------------------------------------------------


def test_the_public_page_masks_the_applicant_and_shows_the_reply(world):
    bad = bad_review(world)
    services.rectification_verify(
        actor=world.approver, rectification=bad.rectification, note="核实"
    )
    services.rectification_reply(
        actor=world.approver, rectification=bad.rectification, reply="已整改"
    )
    id_number = world.applicant.id_number

    page = text_of(client_of().get(reverse("reviews:public")))

    assert "王*" in page and f"{id_number[:4]}**********{id_number[-4:]}" in page
    assert "王五" not in page and id_number not in page
    assert "已整改" in page and "窗口态度差" in page
    assert re.search(r'data-testid="good-rate">0%<', page)
    assert re.search(r'data-testid="rectify-rate">—<', page)  # the reply deadline has not come


# --- API ----------------------------------------------------------------------------------------


def test_the_api_records_a_hotline_callback_and_refuses_a_clerk(world):
    case = concluded_case(world)
    agent = staff(Role.HOTLINE_AGENT)
    body = {"case": case.number, "level": "dissatisfied", "tags": ["overdue"], "text": "超时两天"}

    refused = client_of(world.clerk).post("/api/v1/reviews", body, content_type="application/json")
    created = client_of(agent).post("/api/v1/reviews", body, content_type="application/json")
    twice = client_of(agent).post("/api/v1/reviews", body, content_type="application/json")
    invalid = client_of(agent).post(
        "/api/v1/reviews", {**body, "level": "great"}, content_type="application/json"
    )

    assert refused.status_code == 403 and "只有热线坐席" in refused.json()["detail"]
    assert created.status_code == 201
    answer = created.json()
    assert answer["channel"] == "hotline" and answer["rectification"]["state"] == "opened"
    assert twice.status_code == 409 and "已经评价过" in twice.json()["detail"]
    assert invalid.status_code == 422 and "level" in invalid.json()["errors"]
    reasons = [
        e.payload["reason"]
        for e in event_list_for(subject=case)
        if e.kind == "review.refused_attempt"
    ]
    assert reasons == ["not_hotline_agent", "duplicate"]


def test_the_api_gives_the_figures_of_the_departments_the_caller_sees(world):
    bad_review(world)
    services.evaluation_by_applicant(
        actor=world.citizen, case=concluded_case(world), occasion="completion", level="satisfied"
    )

    answer = client_of(world.supervisor).get(
        "/api/v1/reviews/figures", {"department": world.main.pk}
    )
    hidden = client_of(world.other_approver).get(
        "/api/v1/reviews/figures", {"department": world.main.pk}
    )

    assert answer.status_code == 200, answer.content
    [row] = answer.json()["departments"]
    assert (row["evaluations"], row["good"], row["bad"], row["good_rate"]) == (2, 1, 1, 0.5)
    assert hidden.status_code == 404 and json.loads(hidden.content)["detail"].startswith(
        "未找到部门"
    )
