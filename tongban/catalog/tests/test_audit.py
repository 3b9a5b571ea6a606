"""The catalogue audit: each rule finds its planted contradiction and nothing in a consistent item;
the command prints a table or JSON; the page filters, scopes and exports to Excel."""

from __future__ import annotations

import json
from datetime import timedelta
from io import BytesIO, StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from tongban.catalog.audit import RULES, Finding, run_audit
from tongban.catalog.models import CatalogEntry, ItemVersion, ServiceItem
from tongban.org.models import Role
from tongban.org.tests.factories import (
    CountyFactory,
    DepartmentFactory,
    RoleAssignmentFactory,
)

from .factories import CatalogEntryFactory, make_version

pytestmark = pytest.mark.django_db


def consistent(**content: Any) -> dict[str, Any]:
    """An item's content that breaks no rule: 75% compression, one visit, reviewed today."""
    return {
        "legal_limit": 20,
        "promised_limit": 5,
        "guide_reviewed_at": timezone.localdate(),
        **content,
    }


def planted(content: dict[str, Any] | None = None, **kwargs: Any) -> ItemVersion:
    return make_version(content=consistent(**(content or {})), **kwargs)


def findings_of(version: ItemVersion) -> list[Finding]:
    return [f for f in run_audit() if f.version.pk == version.pk]


def only_finding(version: ItemVersion) -> Finding:
    findings = findings_of(version)
    assert len(findings) == 1, [(f.rule, f.message) for f in findings]
    return findings[0]


def other_county(code: str, name: str) -> Any:
    return CountyFactory(code=code, name=name)


ONLINE_ZERO_VISITS = {
    "online_depth": "full_online",
    "claimed_visits": 0,
    "delivery_window": False,
    "delivery_electronic": True,
    "result_type": "certificate",
}


class TestAConsistentItem:
    def test_an_ordinary_window_item_gives_no_finding(self):
        # given an item whose every element agrees with the others
        version = planted(
            children={
                "fees": [
                    {
                        "name": "工本费",
                        "standard": "10元/本",
                        "legal_basis": "湘发改价费〔2020〕1号",
                    }
                ]
            }
        )

        # when / then
        assert findings_of(version) == []

    def test_a_zero_visit_online_item_with_its_peers_gives_no_finding(self):
        # given the same entry in three regions with similar limits, all fully online
        entry = CatalogEntryFactory()
        children = {
            "materials": [
                {"name": "身份证", "material_type": "id-card", "form": "electronic"},
                {
                    "name": "营业执照",
                    "material_type": "business-licence",
                    "form": "original",
                    "source": "certificate",
                    "certificate_type": "yyzz",
                },
            ]
        }
        versions = [
            planted(ONLINE_ZERO_VISITS | limits, entry=entry, region=region, children=children)
            for region, limits in [
                (CountyFactory(), {"legal_limit": 20, "promised_limit": 5}),
                (other_county("430902", "资阳区"), {"legal_limit": 20, "promised_limit": 3}),
                (other_county("430903", "赫山区"), {"legal_limit": 15, "promised_limit": 1}),
            ]
        ]

        # when
        findings = run_audit()

        # then
        assert findings == []
        assert len(versions) == 3

    def test_drafts_and_history_are_not_audited(self):
        # given a draft that would break several rules
        make_version(publish=False, content={"legal_limit": 20, "promised_limit": 25})

        # then
        assert run_audit() == []


class TestRules:
    def test_promised_above_legal(self):
        version = planted({"legal_limit": 20, "promised_limit": 25})

        finding = only_finding(version)

        assert (finding.rule, finding.severity_label) == ("promised_over_legal", "严重")
        assert finding.message == (
            "承诺时限 25 个工作日超过法定时限 20 个工作日：承诺时限应不超过法定时限。"
        )

    def test_declared_immediate_with_days(self):
        version = planted({"declared_immediate": True, "legal_limit": 22, "promised_limit": 5})

        finding = only_finding(version)

        assert finding.rule == "immediate_with_days"
        assert finding.message == (
            "申报为即办件，但承诺时限为 5 个工作日：即办件应当场办结（承诺时限为 0），"
            "否则应取消即办件申报。"
        )

    def test_an_immediate_item_with_no_days_is_fine(self):
        version = planted({"declared_immediate": True, "promised_limit": 0})

        assert findings_of(version) == []

    def test_compression_below_the_target(self, settings):
        # given a target of 50% and an item promising 15 of 20 working days
        settings.CATALOG_AUDIT_COMPRESSION_TARGET = 0.5
        version = planted({"legal_limit": 20, "promised_limit": 15})

        finding = only_finding(version)

        assert (finding.rule, finding.severity_label) == ("compression_below_target", "警告")
        assert finding.message == (
            "时限压缩比 25%（承诺 15 个工作日，法定 20 个工作日）低于目标 50%："
            "承诺时限应不超过 10 个工作日。"
        )

    def test_compression_exactly_at_the_target_is_fine(self, settings):
        settings.CATALOG_AUDIT_COMPRESSION_TARGET = 0.5
        version = planted({"legal_limit": 20, "promised_limit": 10})

        assert findings_of(version) == []

    def test_compression_follows_the_setting(self, settings):
        settings.CATALOG_AUDIT_COMPRESSION_TARGET = 0.8
        version = planted({"legal_limit": 20, "promised_limit": 5})

        assert only_finding(version).message.endswith("承诺时限应不超过 4 个工作日。")

    def test_an_outlier_against_the_same_entry_in_other_regions(self):
        # given 880 days where two other counties say 40 and 30
        entry = CatalogEntryFactory()
        version = planted({"legal_limit": 880, "promised_limit": 10}, entry=entry)
        for code, name, legal in [("430902", "资阳区", 40), ("430903", "赫山区", 30)]:
            planted(
                {"legal_limit": legal, "promised_limit": 10},
                entry=entry,
                region=other_county(code, name),
            )

        # when
        findings = run_audit()

        # then only the outlier is found, with the figures
        assert [(f.version.pk, f.rule) for f in findings] == [(version.pk, "limit_outlier")]
        assert findings[0].message == (
            "法定时限 880 个工作日是其他 2 个地区同一事项中位数 35 个工作日的 25.1 倍："
            "请核对时限是否录入错误，并与其他地区的同一事项保持一致。"
        )

    def test_one_other_region_is_not_enough_for_an_outlier(self):
        entry = CatalogEntryFactory()
        version = planted({"legal_limit": 880, "promised_limit": 10}, entry=entry)
        planted(
            {"legal_limit": 40, "promised_limit": 10},
            entry=entry,
            region=other_county("430902", "资阳区"),
        )

        assert findings_of(version) == []

    def test_a_missing_legal_basis(self):
        entry = CatalogEntryFactory(legal_basis="")
        version = planted(entry=entry)

        finding = only_finding(version)

        assert (finding.rule, finding.severity_label) == ("basic_element_missing", "严重")
        assert finding.message == (
            "缺少基本要素：设定依据：请补齐事项名称、编码、类型、实施部门、实施主体和设定依据六要素。"
        )

    @pytest.mark.parametrize(
        ("model", "field", "label"),
        [
            (ItemVersion, "name", "事项名称"),
            (ItemVersion, "implementing_body", "实施主体"),
            (ServiceItem, "local_code", "实施编码"),
            (CatalogEntry, "code", "基本编码"),
        ],
    )
    def test_other_basic_elements_missing_after_a_bulk_load(self, model, field, label):
        # given an element blanked by a bulk update, which bypasses the services' checks
        version = planted()
        pk = {
            ItemVersion: version.pk,
            ServiceItem: version.item_id,
            CatalogEntry: version.item.entry_id,
        }[model]
        model.objects.filter(pk=pk).update(**{field: "  " if field == "name" else ""})

        finding = only_finding(version)

        assert finding.rule == "basic_element_missing"
        assert finding.message.startswith(f"缺少基本要素：{label}：")

    def test_zero_visits_with_an_original_at_the_window_and_pickup_only(self):
        # given the factory's material: the original ID card, handed in at the window
        version = planted({"claimed_visits": 0})

        finding = only_finding(version)

        assert (finding.rule, finding.severity_label) == ("zero_visits_contradicted", "严重")
        assert finding.message == (
            "承诺零跑动，但要求到窗口提交原件（“申请人身份证”），且办理结果只能到窗口领取："
            "请改为电子材料或电子证照库调取、增加邮寄或电子送达，或将承诺跑动次数改为实际次数。"
        )

    def test_zero_visits_with_pickup_only(self):
        version = planted(
            {"claimed_visits": 0},
            children={
                "materials": [{"name": "身份证", "material_type": "id", "form": "electronic"}]
            },
        )

        assert only_finding(version).message.startswith("承诺零跑动，但办理结果只能到窗口领取：")

    def test_full_online_with_a_paper_material_and_an_on_site_step(self):
        version = planted(
            ONLINE_ZERO_VISITS | {"claimed_visits": 1},
            children={
                "materials": [
                    {"name": "房屋产权证明", "material_type": "deed", "form": "original_and_copy"},
                    {"name": "身份证", "material_type": "id", "form": "electronic"},
                ],
                "steps": [
                    {"order": 1, "name": "受理", "limit": 1},
                    {"order": 2, "name": "现场核查", "limit": 3},
                ],
            },
        )

        finding = only_finding(version)

        assert (finding.rule, finding.severity_label) == ("online_contradicted", "严重")
        assert finding.message == (
            "申报为全程网办，但材料“房屋产权证明”只收纸质原件，环节“现场核查”须线下办理："
            "请改为电子材料、线上环节和电子送达或邮寄，或将网办深度改为“网上预审”。"
        )

    def test_full_online_with_a_site_inspection(self):
        version = planted(
            ONLINE_ZERO_VISITS | {"claimed_visits": 1},
            children={
                "materials": [{"name": "身份证", "material_type": "id", "form": "electronic"}],
                "special_procedures": [{"kind": "site_check", "max_days": 5}],
            },
        )

        assert "环节“现场勘验”须线下办理" in only_finding(version).message

    def test_a_certificate_still_demanded_from_the_applicant(self):
        version = planted(
            children={
                "materials": [
                    {
                        "name": "营业执照",
                        "material_type": "business-licence",
                        "form": "copy",
                        "certificate_type": "yyzz",
                    }
                ]
            }
        )

        finding = only_finding(version)

        assert (finding.rule, finding.severity_label) == ("certificate_demanded", "警告")
        assert finding.message == (
            "材料“营业执照”可从电子证照库调取，仍要求申请人提交："
            "请将来源改为“电子证照库调取”，不再要求申请人提供。"
        )

    def test_duplicated_materials(self):
        version = planted(
            children={
                "materials": [
                    {"name": "申请人身份证", "material_type": "id-card"},
                    {"name": "申请书", "material_type": "application"},
                    {"name": "身份证复印件", "material_type": "id-card", "form": "copy"},
                ]
            }
        )

        finding = only_finding(version)

        assert (finding.rule, finding.severity_label) == ("material_duplicated", "警告")
        assert finding.message == (
            "材料重复：“申请人身份证”、“身份证复印件”是同一材料（id-card）：同一材料只应列一次，请合并。"
        )

    def test_a_fee_without_a_legal_basis(self):
        version = planted(children={"fees": [{"name": "工本费", "standard": "10元/本"}]})

        finding = only_finding(version)

        assert (finding.rule, finding.severity_label) == ("fee_without_basis", "严重")
        assert finding.message == (
            "收费项目“工本费”没有收费依据：请填写收费依据（法规或收费文件及条款），无依据的不得收费。"
        )

    def test_a_guide_never_reviewed(self):
        version = planted({"guide_reviewed_at": None})

        finding = only_finding(version)

        assert (finding.rule, finding.severity_label) == ("guide_review_overdue", "提示")
        assert finding.message == "办事指南从未审核：请核对指南内容并填写审核日期。"

    def test_a_guide_reviewed_too_long_ago(self, settings):
        settings.CATALOG_AUDIT_GUIDE_MAX_AGE_DAYS = 365
        today = timezone.localdate()
        old = planted({"guide_reviewed_at": today - timedelta(days=400)})
        recent = planted({"guide_reviewed_at": today - timedelta(days=365)})

        finding = only_finding(old)

        assert finding.message == (
            f"办事指南上次审核于 {today - timedelta(days=400):%Y-%m-%d}，已 400 天未审核"
            "（要求不超过 365 天）：请重新核对指南内容并更新审核日期。"
        )
        assert findings_of(recent) == []

    def test_every_rule_has_a_test_above(self):
        tested = {
            "promised_over_legal",
            "immediate_with_days",
            "compression_below_target",
            "limit_outlier",
            "basic_element_missing",
            "zero_visits_contradicted",
            "online_contradicted",
            "certificate_demanded",
            "material_duplicated",
            "fee_without_basis",
            "guide_review_overdue",
        }
        assert set(RULES) == tested


def planted_catalogue() -> dict[str, ItemVersion]:
    """Three items of 沅江市 with known findings, and one of 资阳区."""
    county = CountyFactory()
    licensing = DepartmentFactory(region=county, name="沅江市市场监督管理局")
    civil = DepartmentFactory(region=county, name="沅江市民政局")
    elsewhere = other_county("430902", "资阳区")
    return {
        "over": planted(
            {"legal_limit": 20, "promised_limit": 25, "name": "食品经营许可"},
            region=county,
            department=licensing,
        ),
        "fee": planted(
            {"name": "婚姻登记"},
            region=county,
            department=civil,
            children={"fees": [{"name": "工本费", "standard": "9元"}]},
        ),
        "guide": planted(
            {"guide_reviewed_at": None, "name": "高龄津贴申领"}, region=county, department=civil
        ),
        "elsewhere": planted(
            {"legal_limit": 20, "promised_limit": 30, "name": "资阳区事项"}, region=elsewhere
        ),
    }


class TestCommand:
    def test_the_text_report_is_a_table_with_a_summary(self):
        # given
        items = planted_catalogue()

        # when
        out = StringIO()
        call_command("audit-catalog", stdout=out)

        # then
        text = out.getvalue()
        lines = text.splitlines()
        assert lines[0].split()[:6] == ["严重程度", "规则", "区划", "实施编码", "事项", "部门"]
        assert lines[-1] == "共 4 项问题：严重 3，警告 0，提示 1"
        row = next(line for line in lines if items["over"].item.local_code in line)
        assert "承诺时限超过法定时限" in row and "食品经营许可" in row and "沅江市" in row
        assert "承诺时限 25 个工作日超过法定时限 20 个工作日" in row

    def test_filters_by_region_and_severity(self):
        planted_catalogue()
        out = StringIO()

        call_command("audit-catalog", "--region", "430981", "--severity", "error", stdout=out)

        assert out.getvalue().splitlines()[-1] == "共 2 项问题：严重 2，警告 0，提示 0"
        assert "资阳区事项" not in out.getvalue()

    def test_filters_by_department(self):
        items = planted_catalogue()
        out = StringIO()

        department = items["fee"].item.department_id
        call_command("audit-catalog", "--department", str(department), stdout=out)

        assert out.getvalue().splitlines()[-1] == "共 2 项问题：严重 1，警告 0，提示 1"

    def test_json_is_machine_readable(self):
        items = planted_catalogue()
        out = StringIO()

        call_command("audit-catalog", "--format", "json", "--rule", "fee_without_basis", stdout=out)

        document = json.loads(out.getvalue())
        assert document["summary"] == {"total": 1, "error": 1, "warning": 0, "info": 0}
        [finding] = document["findings"]
        version = items["fee"]
        assert finding == {
            "rule": "fee_without_basis",
            "rule_title": "收费无依据",
            "severity": "error",
            "severity_label": "严重",
            "item_id": version.item_id,
            "local_code": version.item.local_code,
            "entry_code": version.item.entry.code,
            "item_name": "婚姻登记",
            "version": 1,
            "department_id": version.item.department_id,
            "department": "沅江市民政局",
            "region_code": "430981",
            "region": "沅江市",
            "message": "收费项目“工本费”没有收费依据：请填写收费依据（法规或收费文件及条款），无依据的不得收费。",
        }

    def test_a_clean_catalogue_says_so(self):
        planted()
        out = StringIO()

        call_command("audit-catalog", stdout=out)

        assert out.getvalue() == "未发现问题。\n\n共 0 项问题：严重 0，警告 0，提示 0\n"

    def test_an_unknown_region_is_an_error(self):
        from django.core.management import CommandError

        with pytest.raises(CommandError, match="没有区划代码为 999999 的区划"):
            call_command("audit-catalog", "--region", "999999", stdout=StringIO())


def staff_with(role: str, **kwargs: Any) -> Any:
    return RoleAssignmentFactory(role=role, region=CountyFactory(), **kwargs).user


class TestPage:
    URL = reverse("catalog:audit")

    def rows(self, response: Any) -> list[str]:
        return [f.version.name for f in response.context["findings"]]

    def test_the_catalogue_admin_sees_the_findings_of_their_county(self, client):
        # given
        items = planted_catalogue()
        client.force_login(staff_with(Role.CATALOGUE_ADMIN))

        # when
        response = client.get(self.URL)

        # then 资阳区 is outside the admin's county
        assert response.status_code == 200
        assert self.rows(response) == ["食品经营许可", "婚姻登记", "高龄津贴申领"]
        content = response.content.decode()
        assert "共 3 项问题：严重 2，警告 0，提示 1" in content
        assert "资阳区事项" not in content
        assert items["over"].item.local_code in content
        counts = {c.code: c.count for c in response.context["rule_counts"]}
        assert counts["promised_over_legal"] == 1 and counts["fee_without_basis"] == 1
        assert counts["limit_outlier"] == 0

    @pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.SYSADMIN])
    def test_supervisors_and_sysadmins_may_look(self, client, role):
        planted_catalogue()
        client.force_login(staff_with(role))

        assert client.get(self.URL).status_code == 200

    def test_an_approver_is_refused(self, client):
        department = DepartmentFactory()
        client.force_login(staff_with(Role.APPROVER, department=department))

        assert client.get(self.URL).status_code == 403
        assert client.get(reverse("catalog:audit_export")).status_code == 403

    def test_filters_keep_their_values(self, client):
        # given
        items = planted_catalogue()
        civil = items["fee"].item.department
        client.force_login(staff_with(Role.CATALOGUE_ADMIN))

        # when
        response = client.get(self.URL, {"department": civil.pk, "severity": "error"})

        # then
        assert self.rows(response) == ["婚姻登记"]
        content = response.content.decode()
        assert f'<option value="{civil.pk}" selected>沅江市民政局</option>' in content
        assert '<option value="error" selected>严重</option>' in content
        assert (
            f'href="/items/audit/export.xlsx?department={civil.pk}&amp;severity=error"' in content
        )

    def test_filter_by_rule(self, client):
        planted_catalogue()
        client.force_login(staff_with(Role.CATALOGUE_ADMIN))

        response = client.get(self.URL, {"rule": "guide_review_overdue"})

        assert self.rows(response) == ["高龄津贴申领"]
        assert '<option value="guide_review_overdue" selected>' in response.content.decode()

    def test_a_department_outside_the_scope_is_not_found(self, client):
        items = planted_catalogue()
        client.force_login(staff_with(Role.CATALOGUE_ADMIN))

        response = client.get(self.URL, {"department": items["elsewhere"].item.department_id})

        assert response.status_code == 404

    def test_htmx_gets_only_the_results(self, client):
        planted_catalogue()
        client.force_login(staff_with(Role.CATALOGUE_ADMIN))

        response = client.get(self.URL, {"severity": "info"}, headers={"HX-Request": "true"})

        content = response.content.decode()
        assert content.lstrip().startswith('<div id="audit-results">')
        assert "共 1 项问题：严重 0，警告 0，提示 1" in content

    def test_the_excel_export_holds_the_filtered_findings(self, client):
        # given
        items = planted_catalogue()
        client.force_login(staff_with(Role.SUPERVISOR))

        # when
        response = client.get(reverse("catalog:audit_export"), {"severity": "error"})

        # then
        assert response.status_code == 200
        assert response["Content-Type"].startswith(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        assert "attachment" in response["Content-Disposition"]
        sheet = load_workbook(BytesIO(response.content)).active
        rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
        assert sheet.title == "目录审查"
        assert rows[0] == [
            "严重程度",
            "规则代码",
            "规则",
            "区划代码",
            "区划",
            "实施部门",
            "实施编码",
            "事项名称",
            "版本",
            "问题及整改建议",
        ]
        assert len(rows) == 3
        over = items["over"]
        assert rows[1] == [
            "严重",
            "promised_over_legal",
            "承诺时限超过法定时限",
            "430981",
            "沅江市",
            "沅江市市场监督管理局",
            over.item.local_code,
            "食品经营许可",
            1,
            "承诺时限 25 个工作日超过法定时限 20 个工作日：承诺时限应不超过法定时限。",
        ]
        assert rows[2][7] == "婚姻登记"

    def test_a_name_that_looks_like_a_formula_stays_text_in_excel(self, client):
        # given an item whose name would be a formula in a spreadsheet
        planted({"name": '=HYPERLINK("http://example.com","点我")', "guide_reviewed_at": None})
        client.force_login(staff_with(Role.CATALOGUE_ADMIN))

        # when
        response = client.get(reverse("catalog:audit_export"))

        # then
        cell = load_workbook(BytesIO(response.content)).active["H2"]
        assert (cell.value, cell.data_type) == ('=HYPERLINK("http://example.com","点我")', "s")


class TestDemoCatalogue:
    def test_the_audit_finds_every_planted_inconsistency_and_nothing_else(self):
        # given the demo catalogue: 沅江市, and its neighbours with the defects they list
        from tongban.catalog import demo

        demo.load_demo_catalogue()
        planted_pairs = {
            (p["local_code"], rule) for p in demo.planted_inconsistencies() for rule in p["rules"]
        }

        assert planted_pairs, "the demo plants nothing for the audit to find"

        # when
        findings = run_audit()

        # then every planted defect is found, and no clean item has a finding
        found = {(f.item.local_code, f.rule) for f in findings}
        assert planted_pairs - found == set()
        assert found - planted_pairs == set()
