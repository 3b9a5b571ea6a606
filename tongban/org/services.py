"""Every write to the organisation: staff, roles, applicants, sign-in and one-time codes.

Each function is one transaction, validates with full_clean() so a bad value is a Chinese message
naming the field, and appends an event to the log. Nothing is half-saved on failure.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.core.services import event_append
from tongban.core.sms import send_sms
from tongban.core.validators import normalise_credit_code, normalise_id_number, normalise_mobile

from . import permissions
from .models import (
    AccountKind,
    Applicant,
    ApplicantKind,
    Department,
    Hall,
    LoginCode,
    Region,
    RoleAssignment,
    User,
    Window,
)


class PermissionDeniedError(Exception):
    """The actor may not do this; callers show it as 403 (or 404 when the object is hidden)."""


class SignInError(Exception):
    """A sign-in that did not succeed, with the message to show."""


def _full_clean(obj: Any, exclude: list[str] | None = None) -> None:
    obj.full_clean(exclude=exclude)


# --- organisation -------------------------------------------------------------------------


def region_create(*, code: str, name: str, level: str, parent: Region | None) -> Region:
    region = Region(code=code.strip(), name=name.strip(), level=level, parent=parent)
    _full_clean(region)
    region.save()
    return region


def regions_import(*, rows: list[dict[str, str]]) -> int:
    """Import regions (code, name, level, parent_code), parents before children; returns how many
    were new. Every row is checked before anything is written, and an error names its row."""
    known: dict[str, Region] = {r.code: r for r in Region.objects.all()}
    pending: dict[str, Region] = {}
    errors: list[str] = []
    for number, row in enumerate(rows, start=2):  # row 1 of a file is its header
        code = (row.get("code") or "").strip()
        if code in known or code in pending:
            continue
        parent_code = (row.get("parent_code") or "").strip()
        parent = known.get(parent_code) or pending.get(parent_code) if parent_code else None
        if parent_code and parent is None:
            errors.append(
                _("第 %(n)d 行：上级区划 %(p)s 不存在。") % {"n": number, "p": parent_code}
            )
            continue
        region = Region(
            code=code,
            name=(row.get("name") or "").strip(),
            level=row.get("level", ""),
            parent=parent,
        )
        try:
            region.clean_fields(exclude=["parent"])
            region.clean()
        except ValidationError as exc:
            detail = "；".join(m for ms in exc.message_dict.values() for m in ms)
            errors.append(
                _("第 %(n)d 行（%(code)s）：%(detail)s")
                % {"n": number, "code": code, "detail": detail}
            )
            continue
        pending[code] = region
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        # One insert per level, so that each level's parents have their ids.
        for length in (2, 4, 6, 9, 12):
            level_rows = [r for r in pending.values() if len(r.code) == length]
            for region in level_rows:
                if region.parent is not None:
                    region.parent_id = region.parent.pk
            Region.objects.bulk_create(level_rows, batch_size=1000)
    return len(pending)


def department_create(
    *, actor: Any, region: Region, name: str, short_name: str, code: str
) -> Department:
    department = Department(
        region=region, name=name.strip(), short_name=short_name.strip(), code=code
    )
    with transaction.atomic():
        _full_clean(department)
        department.save()
        event_append(
            subject=department, kind="department.created", actor=actor, payload={"name": name}
        )
    return department


def hall_create(*, actor: Any, region: Region, **fields: Any) -> Hall:
    hall = Hall(region=region, **fields)
    with transaction.atomic():
        _full_clean(hall)
        hall.save()
        event_append(subject=hall, kind="hall.created", actor=actor, payload={"name": hall.name})
    return hall


def window_create(
    *,
    actor: Any,
    hall: Hall,
    number: str,
    name: str,
    kind: str,
    department: Department | None = None,
) -> Window:
    window = Window(hall=hall, number=number, name=name, kind=kind, department=department)
    with transaction.atomic():
        _full_clean(window)
        window.save()
        event_append(
            subject=hall,
            kind="hall.window_added",
            actor=actor,
            payload={"number": number, "name": name},
        )
    return window


# --- staff and roles ------------------------------------------------------------------------


@dataclass(frozen=True)
class RoleSpec:
    role: str
    region: Region
    department: Department | None = None
    hall: Hall | None = None


def staff_create(
    *,
    actor: Any,
    username: str,
    full_name: str,
    password: str,
    mobile: str = "",
    roles: list[RoleSpec] | tuple[RoleSpec, ...] = (),
    check_permission: bool = True,
    password_hash: str = "",
) -> User:
    """Create a staff account with its roles. `check_permission=False` is for the demo loader only,
    and so is `password_hash`: the hash of `password` made once for all the demo's accounts (one
    Argon2 hash costs about 0.2 s; the demo year creates some forty accounts)."""
    username = username.strip()
    errors: dict[str, list[str]] = {}
    if User.objects.filter(username__iexact=username).exists():
        errors["username"] = [_("用户名“%(name)s”已被使用。") % {"name": username}]
    if mobile:
        try:
            mobile = normalise_mobile(mobile)
        except ValidationError as exc:
            errors["mobile"] = exc.messages
    try:
        from django.contrib.auth.password_validation import validate_password

        validate_password(password)
    except ValidationError as exc:
        errors["password"] = exc.messages
    if errors:
        raise ValidationError(errors)
    user = User(
        username=username, full_name=full_name.strip(), mobile=mobile, kind=AccountKind.STAFF
    )
    if password_hash:
        user.password = password_hash
    else:
        user.set_password(password)
    with transaction.atomic():
        _full_clean(user, exclude=["password"])
        user.save()
        event_append(subject=user, kind="user.created", actor=actor, payload={"username": username})
        for spec in roles:
            role_assign(actor=actor, user=user, spec=spec, check_permission=check_permission)
    return user


def role_assign(
    *, actor: Any, user: User, spec: RoleSpec, check_permission: bool = True
) -> RoleAssignment:
    assignment = RoleAssignment(
        user=user, role=spec.role, region=spec.region, department=spec.department, hall=spec.hall
    )
    if check_permission and not permissions.can_assign_role(actor, assignment):
        raise PermissionDeniedError(_("您无权在该区划分配角色。"))
    with transaction.atomic():
        _full_clean(assignment)
        duplicate = RoleAssignment.objects.filter(
            user=user,
            role=spec.role,
            region=spec.region,
            department=spec.department,
            hall=spec.hall,
        ).exists()
        if duplicate:
            raise ValidationError({"role": _("该用户已有相同的角色分配。")})
        assignment.save()
        event_append(
            subject=user,
            kind="user.role_assigned",
            actor=actor,
            payload={
                "role": spec.role,
                "region": spec.region.code,
                "department": spec.department.pk if spec.department else None,
                "hall": spec.hall.pk if spec.hall else None,
            },
        )
    user.__dict__.pop("_role_assignments", None)
    return assignment


# --- staff sign-in with lockout --------------------------------------------------------------


def staff_sign_in(*, username: str, password: str) -> User:
    """Check a staff member's password; repeated failures lock the account for a while."""
    failure: str | None = None
    with transaction.atomic():
        user = (
            User.objects.select_for_update()
            .filter(username__iexact=username.strip(), kind=AccountKind.STAFF)
            .first()
        )
        if user is None or not user.is_active:
            make_password(password)  # same work as a real check, so timing does not reveal accounts
            failure = _("用户名或密码错误。")
        elif user.is_locked:
            assert user.locked_until is not None
            until = timezone.localtime(user.locked_until).strftime("%H:%M")
            failure = _("登录失败次数过多，账号已锁定，请于 %(time)s 后再试。") % {"time": until}
            event_append(subject=user, kind="user.sign_in_refused_locked", actor=None)
        elif not user.check_password(password):
            user.failed_sign_ins += 1
            payload: dict[str, Any] = {"failures": user.failed_sign_ins}
            if user.failed_sign_ins >= settings.STAFF_LOCKOUT_ATTEMPTS:
                user.locked_until = timezone.now() + timedelta(
                    minutes=settings.STAFF_LOCKOUT_MINUTES
                )
                user.failed_sign_ins = 0
                payload["locked_until"] = user.locked_until.isoformat()
                failure = _("登录失败次数过多，账号已锁定 %(minutes)d 分钟。") % {
                    "minutes": settings.STAFF_LOCKOUT_MINUTES
                }
            else:
                # The same words as for an unknown username, so that accounts cannot be guessed.
                failure = _("用户名或密码错误。")
            user.save(update_fields=["failed_sign_ins", "locked_until"])
            event_append(subject=user, kind="user.sign_in_failed", actor=None, payload=payload)
        else:
            user.failed_sign_ins = 0
            user.locked_until = None
            user.last_login = timezone.now()
            user.save(update_fields=["failed_sign_ins", "locked_until", "last_login"])
            event_append(subject=user, kind="user.signed_in", actor=user)
    if failure is not None:
        raise SignInError(failure)
    assert user is not None
    return user


# --- applicants' one-time codes ----------------------------------------------------------------


def _code_hash(mobile: str, code: str) -> str:
    return hmac.new(
        settings.SECRET_KEY.encode(), f"{mobile}:{code}".encode(), hashlib.sha256
    ).hexdigest()


def login_code_send(*, mobile: str) -> None:
    """Send a one-time sign-in code, at most once a minute and a few times a day per number."""
    try:
        mobile = normalise_mobile(mobile)
    except ValidationError as exc:
        raise ValidationError({"mobile": exc.messages}) from None
    now = timezone.now()
    with transaction.atomic():
        recent = LoginCode.objects.filter(mobile=mobile, created_at__gte=now - timedelta(days=1))
        latest = recent.order_by("-created_at").first()
        if latest and latest.created_at > now - timedelta(
            seconds=settings.LOGIN_CODE_RESEND_SECONDS
        ):
            wait = settings.LOGIN_CODE_RESEND_SECONDS - int(
                (now - latest.created_at).total_seconds()
            )
            raise ValidationError(
                {"mobile": [_("验证码已发送，请 %(s)d 秒后再试。") % {"s": max(wait, 1)}]}
            )
        if recent.count() >= settings.LOGIN_CODE_DAILY_LIMIT:
            raise ValidationError({"mobile": [_("该号码今日获取验证码次数已达上限，请明天再试。")]})
        code = f"{secrets.randbelow(1_000_000):06d}"
        LoginCode.objects.create(
            mobile=mobile,
            code_hash=_code_hash(mobile, code),
            created_at=now,
            expires_at=now + timedelta(seconds=settings.LOGIN_CODE_TTL_SECONDS),
        )
        minutes = max(settings.LOGIN_CODE_TTL_SECONDS // 60, 1)
        text = _("【通办】您的登录验证码为 %(code)s，%(m)d 分钟内有效。如非本人操作，请忽略。") % {
            "code": code,
            "m": minutes,
        }
        transaction.on_commit(lambda: send_sms(mobile=mobile, text=text))


def login_code_verify(*, mobile: str, code: str) -> User:
    """Check a code; on success return the portal account of that number, created on first use."""
    try:
        mobile = normalise_mobile(mobile)
    except ValidationError as exc:
        raise ValidationError({"mobile": exc.messages}) from None
    now = timezone.now()
    error: str | None = None
    with transaction.atomic():
        login_code = (
            LoginCode.objects.select_for_update()
            .filter(mobile=mobile, used_at__isnull=True)
            .order_by("-created_at")
            .first()
        )
        if login_code is None or login_code.expires_at <= now:
            error = _("验证码已失效，请重新获取。")
        elif login_code.attempts >= settings.LOGIN_CODE_MAX_ATTEMPTS:
            error = _("验证码错误次数过多，请重新获取。")
        elif not hmac.compare_digest(login_code.code_hash, _code_hash(mobile, code.strip())):
            login_code.attempts += 1
            login_code.save(update_fields=["attempts"])
            error = _("验证码不正确。")
        else:
            login_code.used_at = now
            login_code.save(update_fields=["used_at"])
            account, created = User.objects.get_or_create(
                kind=AccountKind.APPLICANT,
                mobile=mobile,
                defaults={"username": f"m{mobile}"},
            )
            if created:
                account.set_unusable_password()
                account.save(update_fields=["password"])
                event_append(
                    subject=account, kind="user.created", actor=account, payload={"portal": True}
                )
            account.last_login = now
            account.save(update_fields=["last_login"])
            event_append(
                subject=account, kind="user.signed_in", actor=account, payload={"by": "sms_code"}
            )
    if error is not None:
        raise ValidationError({"code": [error]})
    return account


# --- applicants ----------------------------------------------------------------------------------


def applicant_register(
    *,
    actor: Any,
    kind: str,
    name: str,
    id_number: str = "",
    credit_code: str = "",
    legal_representative: str = "",
    mobile: str = "",
    account: User | None = None,
) -> Applicant:
    """Register a natural or legal person; identifiers are validated and normalised first."""
    errors: dict[str, list[str]] = {}
    name = name.strip()
    if not name:
        errors["name"] = [_("请填写名称。")]
    if kind == ApplicantKind.NATURAL:
        credit_code = ""
        try:
            id_number = normalise_id_number(id_number)
            if Applicant.objects.filter(id_number=id_number).exists():
                errors["id_number"] = [_("该身份证号码已登记。")]
        except ValidationError as exc:
            errors["id_number"] = exc.messages
    elif kind == ApplicantKind.LEGAL:
        id_number = ""
        try:
            credit_code = normalise_credit_code(credit_code)
            if Applicant.objects.filter(credit_code=credit_code).exists():
                errors["credit_code"] = [_("该统一社会信用代码已登记。")]
        except ValidationError as exc:
            errors["credit_code"] = exc.messages
        if not legal_representative.strip():
            errors["legal_representative"] = [_("请填写法定代表人。")]
    else:
        errors["kind"] = [_("请选择申请人类型。")]
    if mobile:
        try:
            mobile = normalise_mobile(mobile)
        except ValidationError as exc:
            errors["mobile"] = exc.messages
    if errors:
        raise ValidationError(errors)
    applicant = Applicant(
        kind=kind,
        name=name,
        id_number=id_number,
        credit_code=credit_code,
        legal_representative=legal_representative.strip(),
        mobile=mobile,
        account=account,
    )
    with transaction.atomic():
        # The model's constraints (one identifier, the kind's; each identifier once) are what
        # the checks above establish, with their own messages; the database holds them again.
        # Validating them here would cost five more queries a registration.
        applicant.full_clean(validate_constraints=False)
        applicant.save()
        event_append(
            subject=applicant,
            kind="applicant.registered",
            actor=actor,
            payload={"kind": kind, "identifier": applicant.identifier},
        )
    return applicant
