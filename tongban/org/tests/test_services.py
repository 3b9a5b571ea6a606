"""Staff, roles, applicants, sign-in and one-time codes: what a person notices, and nothing half-saved."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import override_settings
from django.utils import timezone

from tongban.core.models import Event
from tongban.org import services
from tongban.org.models import (
    AccountKind,
    Applicant,
    ApplicantKind,
    LoginCode,
    Region,
    RegionLevel,
    Role,
    RoleAssignment,
    User,
)

from .factories import (
    TEST_PASSWORD,
    CountyFactory,
    DepartmentFactory,
    HallFactory,
    UserFactory,
    valid_credit_code,
    valid_id_number,
)

pytestmark = pytest.mark.django_db


def with_check_digit(first17: str) -> str:
    from stdnum.cn import ric

    return first17 + ric.calc_check_digit(first17 + "X")


def messages_of(error: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return error.value.message_dict


class TestRegions:
    def test_a_code_outside_its_parent_is_refused_with_a_chinese_message(self):
        county = CountyFactory()
        with pytest.raises(ValidationError) as error:
            services.region_create(
                code="430902112", name="错位镇", level=RegionLevel.TOWN, parent=county
            )
        assert "不在上级区划" in messages_of(error)["code"][0]
        assert not Region.objects.filter(code="430902112").exists()

    def test_a_code_of_the_wrong_length_is_refused(self):
        county = CountyFactory()
        with pytest.raises(ValidationError) as error:
            services.region_create(
                code="4309811", name="七位", level=RegionLevel.TOWN, parent=county
            )
        assert "9 位数字" in messages_of(error)["code"][0]

    def test_the_database_refuses_what_bypasses_the_service(self):
        with pytest.raises(IntegrityError), transaction.atomic():
            Region.objects.create(code="4", name="坏", level=RegionLevel.PROVINCE)


class TestStaff:
    def test_creating_staff_with_a_role_is_recorded(self, settings):
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
        admin = UserFactory()
        county = CountyFactory()
        department = DepartmentFactory(region=county)

        user = services.staff_create(
            actor=admin,
            username="wangwu",
            full_name="王五",
            password=TEST_PASSWORD,
            mobile="138 0013 8001",
            roles=[services.RoleSpec(Role.APPROVER, county, department=department)],
            check_permission=False,
        )

        assert user.check_password(TEST_PASSWORD) and user.password.startswith("argon2")
        assert user.mobile == "13800138001"
        assert list(user.roles.values_list("role", flat=True)) == [Role.APPROVER]
        kinds = list(Event.objects.filter(subject_id=str(user.pk)).values_list("kind", flat=True))
        assert kinds == ["user.created", "user.role_assigned"]

    def test_a_duplicate_username_is_refused_and_nothing_is_saved(self):
        UserFactory(username="shenpi")
        before = (User.objects.count(), Event.objects.count())

        with pytest.raises(ValidationError) as error:
            services.staff_create(
                actor=None, username="ShenPi", full_name="重名", password=TEST_PASSWORD
            )

        assert "已被使用" in messages_of(error)["username"][0]
        assert (User.objects.count(), Event.objects.count()) == before

    def test_a_role_that_needs_a_department_without_one_rolls_everything_back(self):
        county = CountyFactory()
        with pytest.raises(ValidationError) as error:
            services.staff_create(
                actor=None,
                username="nodept",
                full_name="无部门",
                password=TEST_PASSWORD,
                roles=[services.RoleSpec(Role.APPROVER, county)],
                check_permission=False,
            )
        assert "必须指定部门" in messages_of(error)["department"][0]
        assert not User.objects.filter(username="nodept").exists()
        assert not Event.objects.exists()

    def test_a_weak_password_and_a_bad_mobile_are_named(self):
        with pytest.raises(ValidationError) as error:
            services.staff_create(
                actor=None, username="weak", full_name="弱", password="12345678", mobile="12345"
            )
        assert set(messages_of(error)) == {"password", "mobile"}
        assert "11 位数字" in messages_of(error)["mobile"][0]

    def test_a_sysadmin_cannot_assign_roles_outside_the_subtree(self):
        county = CountyFactory()
        town = Region.objects.create(
            code="430981112", name="南大膳镇", level=RegionLevel.TOWN, parent=county
        )
        town_admin = UserFactory()
        RoleAssignment.objects.create(user=town_admin, role=Role.SYSADMIN, region=town)
        target = UserFactory()

        with pytest.raises(services.PermissionDeniedError):
            services.role_assign(
                actor=town_admin, user=target, spec=services.RoleSpec(Role.SUPERVISOR, county)
            )
        services.role_assign(
            actor=town_admin, user=target, spec=services.RoleSpec(Role.SUPERVISOR, town)
        )
        assert target.roles.get().region == town

    def test_a_department_outside_the_assignment_region_is_refused(self):
        county = CountyFactory()
        town = Region.objects.create(
            code="430981112", name="南大膳镇", level=RegionLevel.TOWN, parent=county
        )
        county_department = DepartmentFactory(region=county)
        with pytest.raises(ValidationError) as error:
            services.role_assign(
                actor=None,
                user=UserFactory(),
                spec=services.RoleSpec(Role.APPROVER, town, department=county_department),
                check_permission=False,
            )
        assert "不在所选区划" in messages_of(error)["department"][0]

    def test_a_clerk_needs_a_hall(self):
        county = CountyFactory()
        with pytest.raises(ValidationError):
            services.role_assign(
                actor=None,
                user=UserFactory(),
                spec=services.RoleSpec(Role.WINDOW_CLERK, county),
                check_permission=False,
            )
        services.role_assign(
            actor=None,
            user=UserFactory(),
            spec=services.RoleSpec(Role.WINDOW_CLERK, county, hall=HallFactory(region=county)),
            check_permission=False,
        )


class TestStaffSignIn:
    def test_the_right_password_signs_in_and_is_recorded(self):
        user = UserFactory(username="chuangkou")
        signed_in = services.staff_sign_in(username="chuangkou", password=TEST_PASSWORD)
        assert signed_in == user
        assert Event.objects.filter(subject_id=str(user.pk), kind="user.signed_in").exists()

    def test_an_unknown_user_and_a_wrong_password_read_the_same(self):
        UserFactory(username="chuangkou")
        with pytest.raises(services.SignInError) as unknown:
            services.staff_sign_in(username="nobody", password="x")
        with pytest.raises(services.SignInError) as wrong:
            services.staff_sign_in(username="chuangkou", password="x")
        assert str(unknown.value) == str(wrong.value) == "用户名或密码错误。"

    @override_settings(STAFF_LOCKOUT_ATTEMPTS=3, STAFF_LOCKOUT_MINUTES=15)
    def test_repeated_failures_lock_the_account_even_for_the_right_password(self):
        user = UserFactory(username="chuangkou")
        messages = []
        for _ in range(3):
            with pytest.raises(services.SignInError) as error:
                services.staff_sign_in(username="chuangkou", password="wrong")
            messages.append(str(error.value))

        assert messages[0] == messages[1] == "用户名或密码错误。"
        assert "锁定 15 分钟" in messages[2]
        with pytest.raises(services.SignInError) as locked:
            services.staff_sign_in(username="chuangkou", password=TEST_PASSWORD)
        assert "已锁定" in str(locked.value)

        user.refresh_from_db()
        user.locked_until = timezone.now() - timedelta(seconds=1)
        user.save(update_fields=["locked_until"])
        assert services.staff_sign_in(username="chuangkou", password=TEST_PASSWORD) == user

    def test_a_portal_account_cannot_use_the_staff_form(self):
        account = User.objects.create(username="m13800138000", kind=AccountKind.APPLICANT)
        account.set_password(TEST_PASSWORD)
        account.save()
        with pytest.raises(services.SignInError):
            services.staff_sign_in(username="m13800138000", password=TEST_PASSWORD)


class TestLoginCodes:
    def _code(self, outbox) -> str:
        return "".join(ch for ch in outbox[-1].text.split("验证码为")[1][:8] if ch.isdigit())

    def test_a_code_signs_in_once_and_creates_the_portal_account(
        self, sms_outbox, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            services.login_code_send(mobile="13800138000")
        code = self._code(sms_outbox)

        account = services.login_code_verify(mobile="13800138000", code=code)

        assert account.kind == AccountKind.APPLICANT and account.mobile == "13800138000"
        assert not account.has_usable_password()
        with pytest.raises(ValidationError) as reused:
            services.login_code_verify(mobile="13800138000", code=code)
        assert "已失效" in messages_of(reused)["code"][0]

    def test_only_the_hash_is_stored(self, sms_outbox, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            services.login_code_send(mobile="13800138000")
        code = self._code(sms_outbox)
        assert code not in LoginCode.objects.get().code_hash

    def test_a_wrong_code_counts_and_too_many_close_it(
        self, sms_outbox, django_capture_on_commit_callbacks, settings
    ):
        settings.LOGIN_CODE_MAX_ATTEMPTS = 2
        with django_capture_on_commit_callbacks(execute=True):
            services.login_code_send(mobile="13800138000")
        code = self._code(sms_outbox)
        for _ in range(2):
            with pytest.raises(ValidationError) as wrong:
                services.login_code_verify(
                    mobile="13800138000", code="000000" if code != "000000" else "111111"
                )
            assert "不正确" in messages_of(wrong)["code"][0]
        with pytest.raises(ValidationError) as closed:
            services.login_code_verify(mobile="13800138000", code=code)
        assert "次数过多" in messages_of(closed)["code"][0]

    def test_an_expired_code_is_refused(self, sms_outbox, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            services.login_code_send(mobile="13800138000")
        code = self._code(sms_outbox)
        LoginCode.objects.update(
            created_at=timezone.now() - timedelta(minutes=10),
            expires_at=timezone.now() - timedelta(minutes=5),
        )
        with pytest.raises(ValidationError) as expired:
            services.login_code_verify(mobile="13800138000", code=code)
        assert "已失效" in messages_of(expired)["code"][0]

    def test_codes_are_rate_limited(self, sms_outbox, settings):
        settings.LOGIN_CODE_DAILY_LIMIT = 2
        services.login_code_send(mobile="13800138000")
        with pytest.raises(ValidationError) as too_soon:
            services.login_code_send(mobile="13800138000")
        assert "秒后再试" in messages_of(too_soon)["mobile"][0]

        LoginCode.objects.update(created_at=timezone.now() - timedelta(minutes=5))
        services.login_code_send(mobile="13800138000")
        LoginCode.objects.update(created_at=timezone.now() - timedelta(minutes=5))
        with pytest.raises(ValidationError) as daily:
            services.login_code_send(mobile="13800138000")
        assert "上限" in messages_of(daily)["mobile"][0]

    def test_a_malformed_mobile_is_named(self):
        with pytest.raises(ValidationError) as error:
            services.login_code_send(mobile="1234")
        assert "11 位数字" in messages_of(error)["mobile"][0]
        assert not LoginCode.objects.exists()


class TestApplicants:
    def test_a_natural_person_is_normalised(self):
        raw = valid_id_number(7)
        applicant = services.applicant_register(
            actor=None,
            kind=ApplicantKind.NATURAL,
            name=" 张三 ",
            id_number=f" {raw[:6]} {raw[6:].lower()} ",
        )
        assert applicant.id_number == raw.upper()
        assert applicant.name == "张三"

    @pytest.mark.parametrize(
        ("id_number", "message"),
        [
            ("43098119950315202", "18 位"),
            ("430981199503152022", "校验位"),
            (with_check_digit("43098119951315202"), "出生日期或地区码"),
            (with_check_digit("43098119900315202"), "出生日期或地区码"),
            ("", "请填写身份证号码"),
        ],
        ids=["short", "checksum", "bad-date", "place-before-code-existed", "empty"],
    )
    def test_a_bad_id_number_is_named_and_nothing_saved(self, id_number, message):
        with pytest.raises(ValidationError) as error:
            services.applicant_register(
                actor=None, kind=ApplicantKind.NATURAL, name="张三", id_number=id_number
            )
        assert message in messages_of(error)["id_number"][0]
        assert not Applicant.objects.exists()

    def test_a_legal_person_needs_a_valid_credit_code_and_a_representative(self):
        with pytest.raises(ValidationError) as error:
            services.applicant_register(
                actor=None,
                kind=ApplicantKind.LEGAL,
                name="沅江某公司",
                credit_code="91430981MA4L123450",
            )
        assert "校验位" in messages_of(error)["credit_code"][0]
        assert "法定代表人" in messages_of(error)["legal_representative"][0]

        company = services.applicant_register(
            actor=None,
            kind=ApplicantKind.LEGAL,
            name="沅江某公司",
            credit_code=valid_credit_code(12345).lower(),
            legal_representative="王五",
        )
        assert company.credit_code == valid_credit_code(12345)

    def test_the_same_person_cannot_be_registered_twice(self):
        number = valid_id_number(3)
        services.applicant_register(
            actor=None, kind=ApplicantKind.NATURAL, name="张三", id_number=number
        )
        with pytest.raises(ValidationError) as error:
            services.applicant_register(
                actor=None, kind=ApplicantKind.NATURAL, name="张三", id_number=number
            )
        assert "已登记" in messages_of(error)["id_number"][0]
        assert Applicant.objects.count() == 1

    def test_the_database_refuses_an_applicant_without_an_identifier(self):
        with pytest.raises(IntegrityError), transaction.atomic():
            Applicant.objects.create(kind=ApplicantKind.NATURAL, name="无证件")


class TestRegionImport:
    def test_rows_are_checked_before_anything_is_written(self):
        rows = [
            {"code": "43", "name": "湖南省", "level": "province", "parent_code": ""},
            {"code": "4309", "name": "益阳市", "level": "city", "parent_code": "43"},
            {"code": "43098", "name": "五位", "level": "county", "parent_code": "4309"},
            {"code": "430981112", "name": "南大膳镇", "level": "town", "parent_code": "430981"},
        ]
        with pytest.raises(ValidationError) as error:
            services.regions_import(rows=rows)
        assert error.value.messages == [
            "第 4 行（43098）：县（市、区）级区划代码应为 6 位数字。",
            "第 5 行：上级区划 430981 不存在。",
        ]
        assert not Region.objects.exists()

    def test_importing_twice_adds_nothing(self):
        rows = [
            {"code": "43", "name": "湖南省", "level": "province", "parent_code": ""},
            {"code": "4309", "name": "益阳市", "level": "city", "parent_code": "43"},
        ]
        assert services.regions_import(rows=rows) == 2
        assert services.regions_import(rows=rows) == 0
        assert Region.objects.get(code="4309").parent == Region.objects.get(code="43")


class TestDemoOrganisation:
    def test_the_command_loads_once_and_prints_the_logins(self, capsys):
        from django.core.management import call_command

        call_command("demo-org", "--if-empty")
        first = capsys.readouterr().out
        call_command("demo-org", "--if-empty")
        second = capsys.readouterr().out

        assert "已载入演示机构" in first and "演示机构已存在" in second
        for username in (
            "admin",
            "chuangkou",
            "shenpi",
            "fuzeren",
            "jiancha",
            "shixiang",
            "zuoxi",
            "chengban",
        ):
            assert username in first
        assert Region.objects.get(code="430981").name == "沅江市"
        assert (
            Region.objects.filter(code__startswith="430981", level=RegionLevel.VILLAGE).count()
            > 150
        )
        assert User.objects.filter(kind=AccountKind.STAFF).count() == 12

    def test_every_demo_account_signs_in_with_the_published_password(self, settings):
        from django.contrib.auth import authenticate
        from django.core.management import call_command

        from tongban.org import demo

        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
        call_command("demo-org", "--if-empty", stdout=io.StringIO())

        staff = list(User.objects.filter(kind=AccountKind.STAFF))
        assert len(staff) == 12
        for user in staff:
            assert user.password.startswith("argon2$")
            assert authenticate(username=user.username, password=demo.DEMO_PASSWORD) == user
        assert authenticate(username=staff[0].username, password="tongban2025") is None

    def test_a_database_with_other_accounts_is_left_alone(self, capsys):
        from django.core.management import call_command

        UserFactory(username="someone")
        call_command("demo-org", "--if-empty")
        assert "未载入演示机构" in capsys.readouterr().out
        assert not Region.objects.exists()
