"""Validators and normalisers for Chinese identifiers, with Chinese messages naming what is wrong.

Checksums come from python-stdnum (`cn.ric` for resident ID numbers, `cn.uscc` for unified social
credit codes); nothing here re-implements them.
"""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric, uscc

MOBILE_RE = re.compile(r"^1[3-9][0-9]{9}$")


def _typed(value: str) -> str:
    """What a person typed, without spaces or dashes and with full-width characters made half-width."""
    return re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", value or ""))


def normalise_id_number(value: str) -> str:
    """Validate a resident ID number and return it in canonical form (18 characters, capital X)."""
    cleaned = ric.compact(_typed(value))
    if not cleaned:
        raise ValidationError(_("请填写身份证号码。"), code="required")
    try:
        return ric.validate(cleaned)
    except stdnum_errors.InvalidLength:
        raise ValidationError(_("身份证号码应为 18 位。"), code="invalid_length") from None
    except stdnum_errors.InvalidChecksum:
        raise ValidationError(
            _("身份证号码校验位不正确，请核对。"), code="invalid_checksum"
        ) from None
    except stdnum_errors.InvalidComponent:
        raise ValidationError(
            _("身份证号码中的出生日期或地区码无效。"), code="invalid_component"
        ) from None
    except stdnum_errors.ValidationError:
        raise ValidationError(_("身份证号码格式不正确。"), code="invalid") from None


def normalise_credit_code(value: str) -> str:
    """Validate a unified social credit code and return it in canonical form (18 characters, upper case)."""
    cleaned = uscc.compact(_typed(value))
    if not cleaned:
        raise ValidationError(_("请填写统一社会信用代码。"), code="required")
    try:
        return uscc.validate(cleaned)
    except stdnum_errors.InvalidLength:
        raise ValidationError(_("统一社会信用代码应为 18 位。"), code="invalid_length") from None
    except stdnum_errors.InvalidChecksum:
        raise ValidationError(
            _("统一社会信用代码校验位不正确，请核对。"), code="invalid_checksum"
        ) from None
    except stdnum_errors.ValidationError:
        raise ValidationError(_("统一社会信用代码格式不正确。"), code="invalid") from None


def normalise_mobile(value: str) -> str:
    cleaned = _typed(value)
    if cleaned.startswith("+86"):
        cleaned = cleaned[3:]
    if not MOBILE_RE.match(cleaned):
        raise ValidationError(_("手机号码应为 11 位数字，以 1 开头。"), code="invalid_mobile")
    return cleaned


def validate_id_number(value: str) -> None:
    if value:
        normalise_id_number(value)


def validate_credit_code(value: str) -> None:
    if value:
        normalise_credit_code(value)


def validate_mobile(value: str) -> None:
    if value:
        normalise_mobile(value)
