"""The JSON shapes of the cases API: what a caller sends and what it gets back.

Input schemas check only the shape (types, lengths, choices the OpenAPI document can list); what a
value means for a case — a missing reason, a material that cannot be tolerated, a wrong state — is
decided by `tongban.cases.services`, so the API and the pages give the same Chinese message.
Free-text fields therefore default to "" here and the service says what is missing.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from .workflow import CaseStatus

# Long enough for any real reason or opinion, short enough that nobody stores a book in a case.
TEXT = 2000
MAX_PAGE = 100


# --- in -----------------------------------------------------------------------------------------


class ApplicantIn(Schema):
    id_number: str = Field("", max_length=30, description="自然人的身份证号码")
    credit_code: str = Field("", max_length=30, description="法人或其他组织的统一社会信用代码")
    name: str = Field("", max_length=100, description="姓名或单位名称（新登记申请人时必填）")
    mobile: str = Field("", max_length=20, description="手机号码")
    legal_representative: str = Field("", max_length=50, description="法定代表人（法人必填）")


class CaseCreateIn(Schema):
    item: int | str | None = Field(
        None, description="事项：实施编码（字符串），或事项版本编号（整数）；与 bundle 二选一"
    )
    bundle: str | None = Field(None, max_length=40, description="一件事编码；与 item 二选一")
    applicant: ApplicantIn | None = Field(
        None,
        description="按证件号码查找申请人，没有时登记；申请人本人调用时可省略（用本人名下的申请人）",
    )
    channel: Literal["window", "online"] = Field(description="window 窗口受理，online 网上申请")
    hall_id: int | None = Field(None, description="受理大厅（窗口受理必填）")
    form: dict[str, Any] = Field(default_factory=dict, description="申请表，键为表单字段代码")
    submit: bool = Field(True, description="false 时只保存草稿")


class AcceptIn(Schema):
    tolerated: list[int] = Field(
        default_factory=list, max_length=100, description="容缺受理的材料编号"
    )
    owed_by: date | None = Field(None, description="容缺材料补齐日期")
    commitment: bool = Field(False, description="告知承诺制受理")
    commitment_text: str = Field("", max_length=TEXT, description="申请人签署的承诺内容")
    checklist: dict[int, bool] = Field(
        default_factory=dict, description="窗口核验的材料：材料编号 → 是否已收取原件"
    )


class RefuseIn(Schema):
    reason: str = Field("", max_length=TEXT, description="不予受理的理由")
    basis: str = Field("", max_length=TEXT, description="法律依据")


class SupplementItemIn(Schema):
    kind: Literal["material", "field"] = Field(
        "material", description="material 材料，field 表单项"
    )
    key: str = Field("", max_length=60, description="材料编号或材料类型代码，或表单字段代码")
    name: str = Field("", max_length=200, description="名称")
    problem: str = Field("", max_length=300, description="存在的问题")


class SupplementIn(Schema):
    items: list[SupplementItemIn] = Field(
        default_factory=list, max_length=100, description="一次性告知的全部补正内容"
    )


class SupplementSubmitIn(Schema):
    form: dict[str, Any] | None = Field(None, description="补正后的申请表内容（只写改动的项）")


class WithdrawIn(Schema):
    reason: str = Field("", max_length=TEXT)


class ReasonIn(Schema):
    reason: str = Field("", max_length=TEXT)


class SuspendIn(Schema):
    kind: str = Field("", max_length=20, description="特别程序种类代码，如 hearing、expert_review")
    reason: str = Field("", max_length=TEXT)
    # The column is a small integer; a year is far beyond any special procedure's legal length.
    expected_days: int = Field(1, le=365, description="预计时长（工作日）")


class ExtensionIn(Schema):
    days: int = Field(le=365, description="延长天数")
    reason: str = Field("", max_length=TEXT)


class ExtensionDecideIn(Schema):
    grant: bool


class StepPassIn(Schema):
    opinion: str = Field("", max_length=TEXT)
    outputs: dict[str, str] | None = Field(
        None, description="无决定环节的事项在最后一个环节记录的办理结果数据（如统一社会信用代码）"
    )
    result_number: str = Field("", max_length=60)


class StepReturnIn(Schema):
    to_step: int = Field(description="退回到的环节编号")
    reason: str = Field("", max_length=TEXT)


class StepDecideIn(Schema):
    approve: bool
    reason: str = Field("", max_length=TEXT)
    basis: str = Field("", max_length=TEXT, description="不予许可的法律依据（印在决定书上）")
    outputs: dict[str, str] | None = Field(None, description="办理结果数据，供一件事的后续事项使用")
    result_number: str = Field("", max_length=60, description="结果文号")


class DeliverIn(Schema):
    method: str = Field(
        "", max_length=12, description="window 窗口领取，mail 邮寄，electronic 电子送达"
    )
    detail: str = Field("", max_length=200, description="邮寄时的快递单号")


class PostCheckIn(Schema):
    passed: bool
    note: str = Field("", max_length=TEXT)


class CaseListParams(Schema):
    status: CaseStatus | None = Field(None, description="状态代码")
    department: int | None = Field(None, description="部门编号（含一件事的分项）")
    overdue: bool | None = Field(None, description="true 时只列超过承诺期限仍在办理的办件")
    after: str | None = Field(None, max_length=200, description="上一页返回的 next")
    limit: int = Field(50, ge=1, le=MAX_PAGE)


class InboxParams(Schema):
    department: int | None = Field(None, description="只看本人所在的某个部门")
    after: str | None = Field(None, max_length=200, description="上一页返回的 next")
    limit: int = Field(50, ge=1, le=MAX_PAGE)


# --- out ----------------------------------------------------------------------------------------


class ErrorOut(Schema):
    detail: str
    errors: dict[str, list[str]] = Field(default_factory=dict)


class NamedOut(Schema):
    id: int
    name: str


class ApplicantOut(Schema):
    kind: str
    name: str
    identifier: str = Field(description="证件号码；身份证号码只显示前 6 位和后 4 位")
    mobile: str = Field(description="只显示前 3 位和后 4 位")


class ItemOut(Schema):
    version_id: int
    local_code: str
    name: str


class StepOut(Schema):
    id: int
    order: int
    stage: int = Field(description="同一阶段的环节并联办理")
    name: str
    department: NamedOut
    role: str
    kind: str
    status: str
    status_label: str
    limit: int
    started_at: datetime | None
    due: datetime | None
    finished_at: datetime | None
    card: str | None = Field(description="办理中环节的红黄绿牌：green、yellow、red")
    opinion: str
    denial_proposed: bool


class UploadOut(Schema):
    id: str
    original_name: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime


class MaterialOut(Schema):
    id: int
    name: str
    material_type: str
    required: bool
    tolerable: bool
    status: str
    status_label: str
    problem: str
    owed_by: date | None
    checked: bool
    files: list[UploadOut]


class ExtensionOut(Schema):
    id: int
    days: int
    reason: str
    granted: bool | None
    requested_at: datetime
    decided_at: datetime | None


class EventOut(Schema):
    kind: str
    at: datetime
    actor: str
    payload: dict[str, Any]


class ChildOut(Schema):
    number: str
    title: str
    status: str
    status_label: str
    department: NamedOut | None


class CaseOut(Schema):
    number: str
    title: str
    status: str
    status_label: str
    channel: str
    item: ItemOut | None
    bundle: str | None = Field(description="一件事编码")
    parent: str | None = Field(description="一件事主件的办件编号")
    department: NamedOut | None
    hall: NamedOut | None
    applicant: ApplicantOut
    form: dict[str, Any]
    created_at: datetime
    submitted_at: datetime | None
    accepted_at: datetime | None
    decided_at: datetime | None
    completed_at: datetime | None
    delivered_at: datetime | None
    promised_limit: int
    legal_limit: int | None
    limit_unit: str
    prereview_due: datetime | None
    promised_due: datetime | None
    legal_due: datetime | None
    tolerance_due: datetime | None
    card: str | None = Field(description="当前计时的红黄绿牌（预审或承诺期限）")
    extended_days: int
    visits: int
    supplement_count: int
    commitment: bool
    decision: str
    decision_reason: str
    basis: str = Field(description="不予受理或不予许可的法律依据")
    result_name: str
    result_number: str
    outputs: dict[str, Any]
    delivery_method: str
    delivery_detail: str
    close_reason: str
    steps: list[StepOut]
    materials: list[MaterialOut]
    extensions: list[ExtensionOut]
    children: list[ChildOut]
    events: list[EventOut]


class CaseRowOut(Schema):
    number: str
    title: str
    status: str
    status_label: str
    channel: str
    department: NamedOut | None
    applicant: str
    created_at: datetime
    promised_due: datetime | None
    card: str | None


class CaseListOut(Schema):
    items: list[CaseRowOut]
    next: str | None = Field(description="下一页的游标；没有下一页时为 null")


class InboxRowOut(Schema):
    step_id: int
    step: str
    stage: int
    department: NamedOut
    due: datetime | None
    card: str | None
    case_number: str
    case_title: str
    case_status: str
    applicant: str


class InboxOut(Schema):
    items: list[InboxRowOut]
    next: str | None


class ExtensionCreatedOut(Schema):
    extension: ExtensionOut
    case: CaseOut
