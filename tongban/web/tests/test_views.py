"""The sign-in pages and forms, through Django's test client (the browser tests walk the same flows)."""

from __future__ import annotations

import re

import pytest

from tongban.org.models import Applicant, User

pytestmark = pytest.mark.django_db


def test_the_root_is_the_chinese_sign_in_page(client):
    page = client.get("/").content.decode()
    assert '<html lang="zh-CN">' in page
    assert "工作人员登录" in page and "用户名" in page and "手机验证码登录" in page


def test_signing_in_leads_to_the_role_home(client, demo):
    response = client.post("/", {"username": "jiancha", "password": demo.DEMO_PASSWORD})
    assert response.status_code == 302 and response.url == "/supervision/"
    page = client.get("/supervision/").content.decode()
    assert "赵敏" in page and "电子监察" in page


def test_a_wrong_password_keeps_the_username_and_says_why(client, demo):
    page = client.post("/", {"username": "jiancha", "password": "wrong"}).content.decode()
    assert "用户名或密码错误" in page
    assert 'value="jiancha"' in page


def test_sign_out_needs_a_post(client, demo):
    client.post("/", {"username": "jiancha", "password": demo.DEMO_PASSWORD})
    assert client.get("/sign-out/").status_code == 405
    assert client.post("/sign-out/").url == "/"
    assert client.get("/supervision/").status_code == 302


def test_the_portal_signs_in_with_a_code_and_registers_an_applicant(
    client, sms_outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(
            "/portal/sign-in/", {"step": "mobile", "mobile": "13800138000"}
        ).content.decode()
    assert "验证码已发送" in page
    code = re.search(r"验证码为 (\d{6})", sms_outbox[-1].text).group(1)

    wrong = client.post(
        "/portal/sign-in/",
        {
            "step": "code",
            "mobile": "13800138000",
            "code": "999999" if code != "999999" else "000000",
        },
    )
    assert "验证码不正确" in wrong.content.decode()
    response = client.post(
        "/portal/sign-in/", {"step": "code", "mobile": "13800138000", "code": code}
    )
    assert response.url == "/portal/"

    bad = client.post(
        "/portal/", {"kind": "natural", "name": "张三", "id_number": "430981199503152022"}
    ).content.decode()
    assert "身份证号码校验位不正确" in bad and 'value="张三"' in bad
    assert not Applicant.objects.exists()

    client.post("/portal/", {"kind": "natural", "name": "张三", "id_number": "430981199503152021"})
    applicant = Applicant.objects.get()
    assert applicant.account == User.objects.get(mobile="13800138000", kind="applicant")
    assert "430981199503152021" in client.get("/portal/").content.decode()


def test_the_staff_form_keeps_what_was_typed_on_error(client, demo):
    client.post("/", {"username": "admin", "password": demo.DEMO_PASSWORD})
    page = client.post(
        "/org/staff/new/",
        {
            "username": "shenpi",
            "full_name": "新同事",
            "password": "another-pass-2026",
            "role": "supervisor",
            "region": demo_region_id(),
        },
    ).content.decode()
    assert "用户名“shenpi”已被使用" in page
    assert 'value="新同事"' in page


def demo_region_id() -> int:
    from tongban.org.models import Region

    return Region.objects.get(code="430981").pk


def test_the_api_schema_is_published(client, demo):
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["info"]["title"] == "通办 tongban API"
    assert "/api/v1/org/departments" in schema["paths"]


def test_the_api_tells_who_is_signed_in(client, demo):
    client.post("/", {"username": "shenpi", "password": demo.DEMO_PASSWORD})
    me = client.get("/api/v1/org/me").json()
    assert me["full_name"] == "张伟"
    assert me["roles"] == [
        {
            "role": "approver",
            "role_label": "审批人员",
            "region": "430981",
            "department": "沅江市市场监督管理局",
            "hall": None,
        }
    ]


def test_static_vendor_files_are_served(client):
    assert client.get("/static/vendor/htmx/htmx.min.js").status_code == 200
    assert client.get("/static/vendor/echarts/echarts.min.js").status_code == 200


def test_the_portal_sign_in_page_starts_without_errors(client):
    page = client.get("/portal/sign-in/").content.decode()
    assert "群众和企业登录" in page and "获取验证码" in page
    assert "必填" not in page


def test_an_applicant_is_shown_by_a_masked_mobile(client):
    account = User.objects.create(username="m13800138000", kind="applicant", mobile="13800138000")
    client.force_login(account)
    assert "138****8000" in client.get("/portal/").content.decode()


def test_the_region_api_walks_the_tree_and_names_unknown_codes(client, demo):
    client.post("/", {"username": "jiancha", "password": demo.DEMO_PASSWORD})
    towns = client.get("/api/v1/org/regions", {"parent": "430981"}).json()
    assert {"code": "430981112", "name": "南大膳镇", "level": "town"} in towns
    unknown = client.get("/api/v1/org/regions", {"parent": "999999"})
    assert unknown.status_code == 404
    assert unknown.json() == {"detail": "未知的区划代码：999999"}


def test_the_api_docs_load_their_scripts_from_this_server(client):
    page = client.get("/api/v1/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert "cdn." not in page
