"""Factories for the organisation, with real-shaped codes and checksum-valid identifiers."""

from __future__ import annotations

import factory
from stdnum.cn import ric, uscc

from tongban.org.models import (
    AccountKind,
    Applicant,
    ApplicantKind,
    Department,
    Hall,
    HallKind,
    Region,
    RegionLevel,
    Role,
    RoleAssignment,
    User,
)

TEST_PASSWORD = "correct-horse-2026"


def valid_id_number(serial: int) -> str:
    base = f"430981200{serial % 10}0101{serial % 1000:03d}X"
    return base[:-1] + ric.calc_check_digit(base)


def valid_credit_code(serial: int) -> str:
    base = f"91430981MA4L{serial % 100000:05d}"
    return base + uscc.calc_check_digit(base)


class ProvinceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = "43"
    name = "湖南省"
    level = RegionLevel.PROVINCE
    parent = None


class CityFactory(ProvinceFactory):
    code = "4309"
    name = "益阳市"
    level = RegionLevel.CITY
    parent = factory.SubFactory(ProvinceFactory)


class CountyFactory(ProvinceFactory):
    code = "430981"
    name = "沅江市"
    level = RegionLevel.COUNTY
    parent = factory.SubFactory(CityFactory)


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    region = factory.SubFactory(CountyFactory)
    name = factory.Sequence(lambda n: f"测试部门{n}")
    short_name = factory.Sequence(lambda n: f"部门{n}")
    code = factory.Sequence(lambda n: f"D{n:03d}")


class HallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Hall

    region = factory.SubFactory(CountyFactory)
    name = factory.Sequence(lambda n: f"测试大厅{n}")
    kind = HallKind.COUNTY_CENTRE
    address = "测试地址"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    full_name = factory.Sequence(lambda n: f"工作人员{n}")
    kind = AccountKind.STAFF
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):  # type: ignore[no-untyped-def]
        if create:
            obj.save()


class RoleAssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoleAssignment

    user = factory.SubFactory(UserFactory)
    role = Role.SUPERVISOR
    region = factory.SubFactory(CountyFactory)


class ApplicantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Applicant

    kind = ApplicantKind.NATURAL
    name = "李四"
    id_number = factory.Sequence(valid_id_number)
