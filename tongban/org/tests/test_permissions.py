"""Each demo role sees and may do exactly its share: pages, API and selectors agree."""

from __future__ import annotations

import pytest
from django.test import Client

from tongban.org import permissions, selectors
from tongban.org.models import Department, Hall, User

ALL_DEPARTMENTS = 16
COUNTY_HALL = "沅江市政务服务中心"
TOWN_HALL = "南大膳镇便民服务中心"

# username → (departments visible, halls visible, home page)
SCOPES = {
    "admin": (ALL_DEPARTMENTS, {COUNTY_HALL, TOWN_HALL}, "/org/"),
    "chuangkou": (ALL_DEPARTMENTS, {COUNTY_HALL}, "/workbench/"),
    "xiangzhen": (ALL_DEPARTMENTS, {TOWN_HALL}, "/workbench/"),
    "shenpi": ({"沅江市市场监督管理局"}, set(), "/inbox/"),
    "fuzeren": ({"沅江市市场监督管理局"}, set(), "/inbox/"),
    "gongan": ({"沅江市公安局"}, set(), "/inbox/"),
    "shuiwu": ({"国家税务总局沅江市税务局"}, set(), "/inbox/"),
    "shebao": ({"沅江市人力资源和社会保障局"}, set(), "/inbox/"),
    "jiancha": (ALL_DEPARTMENTS, {COUNTY_HALL, TOWN_HALL}, "/supervision/"),
    "shixiang": (ALL_DEPARTMENTS, {COUNTY_HALL, TOWN_HALL}, "/catalogue/"),
    "zuoxi": (ALL_DEPARTMENTS, {COUNTY_HALL, TOWN_HALL}, "/hotline/"),
    "chengban": ({"沅江市民政局"}, set(), "/hotline/handling/"),
}
ROLE_PAGES = [
    "/workbench/",
    "/inbox/",
    "/supervision/",
    "/catalogue/",
    "/hotline/",
    "/hotline/handling/",
    "/org/",
    "/org/staff/new/",
]
# Pages a role may open besides its own home.
EXTRA_PAGES = {"admin": {"/org/staff/new/"}}


def client_for(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


@pytest.mark.parametrize("username", SCOPES)
def test_each_role_sees_its_departments_and_halls(demo, username):
    user = User.objects.get(username=username)
    departments, halls, _ = SCOPES[username]

    visible = {d.name for d in selectors.department_list_visible_to(actor=user)}
    if isinstance(departments, int):
        assert len(visible) == departments
    else:
        assert visible == departments
    assert {h.name for h in selectors.hall_list_visible_to(actor=user)} == halls


@pytest.mark.parametrize("username", SCOPES)
def test_each_role_opens_its_own_pages_and_no_others(demo, username):
    client = client_for(username)
    home = SCOPES[username][2]

    assert client.get("/home/").url == home
    for page in ROLE_PAGES:
        expected = 200 if page == home or page in EXTRA_PAGES.get(username, set()) else 403
        response = client.get(page)
        assert response.status_code == expected, f"{username} {page}"
        if expected == 403:
            assert "无权访问" in response.content.decode()


@pytest.mark.parametrize("username", SCOPES)
def test_department_pages_and_api_hide_what_is_out_of_scope(demo, username):
    client = client_for(username)
    user = User.objects.get(username=username)
    visible = set(selectors.department_list_visible_to(actor=user).values_list("pk", flat=True))

    for department in Department.objects.all():
        page = client.get(f"/org/departments/{department.pk}/")
        api = client.get(f"/api/v1/org/departments/{department.pk}")
        expected = 200 if department.pk in visible else 404
        assert (page.status_code, api.status_code) == (expected, expected), department.name
    assert {d["id"] for d in client.get("/api/v1/org/departments").json()} == visible


def test_an_approver_gets_404_for_another_departments_page(demo):
    client = client_for("shenpi")
    police = Department.objects.get(short_name="公安局")
    market = Department.objects.get(short_name="市场监管局")

    hidden = client.get(f"/org/departments/{police.pk}/")
    own = client.get(f"/org/departments/{market.pk}/")

    assert hidden.status_code == 404 and "页面不存在" in hidden.content.decode()
    assert own.status_code == 200 and "沅江市市场监督管理局" in own.content.decode()


def test_hall_pages_are_scoped(demo):
    town_hall = Hall.objects.get(name=TOWN_HALL)
    assert client_for("chuangkou").get(f"/org/halls/{town_hall.pk}/").status_code == 404
    assert client_for("xiangzhen").get(f"/org/halls/{town_hall.pk}/").status_code == 200
    assert client_for("shenpi").get(f"/api/v1/org/halls/{town_hall.pk}").status_code == 404


def test_staff_lists_follow_the_role(demo):
    def staff_of(username: str) -> set[str]:
        user = User.objects.get(username=username)
        return set(selectors.staff_list_visible_to(actor=user).values_list("username", flat=True))

    assert staff_of("admin") == set(SCOPES)
    assert staff_of("fuzeren") == {"fuzeren", "shenpi"}
    assert staff_of("shenpi") == {"shenpi"}


def test_only_the_sysadmin_may_manage(demo):
    market = Department.objects.get(short_name="市场监管局")
    hall = Hall.objects.get(name=COUNTY_HALL)
    for username in SCOPES:
        user = User.objects.get(username=username)
        is_admin = username == "admin"
        assert permissions.can_manage_staff(user) is is_admin
        assert permissions.can_edit_department(user, market) is is_admin
        assert permissions.can_manage_hall(user, hall) is is_admin


def test_anonymous_visitors_are_sent_to_sign_in_and_the_api_refuses_them(demo):
    client = Client()
    assert client.get("/inbox/").url.startswith("/?next=")
    assert client.get("/api/v1/org/departments").status_code == 401


def test_an_applicant_account_sees_no_staff_pages(demo):
    applicant = User.objects.create(username="m13800138000", kind="applicant", mobile="13800138000")
    client = Client()
    client.force_login(applicant)
    assert client.get("/inbox/").status_code == 403
    assert client.get("/home/").url == "/portal/"
    assert client.get("/api/v1/org/departments").json() == []
