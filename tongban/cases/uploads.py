"""What an uploaded file really is: the type read from its first bytes, never from its name.

A file whose content is not one of the accepted kinds, or whose name claims another kind (an
executable renamed 证明.pdf, a PDF renamed photo.jpg), is refused with a Chinese message.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Sniffed:
    content_type: str
    extension: str


# (leading bytes, MIME type, canonical extension, extensions a name may carry)
_SIGNATURES: tuple[tuple[bytes, str, str, frozenset[str]], ...] = (
    (b"%PDF-", "application/pdf", ".pdf", frozenset({".pdf"})),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg", frozenset({".jpg", ".jpeg"})),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png", frozenset({".png"})),
    # OFD, China's fixed-layout format (GB/T 33190), is a ZIP with an OFD.xml at its root.
    (b"PK\x03\x04", "application/ofd", ".ofd", frozenset({".ofd"})),
)

ACCEPTED_LABEL = "PDF、JPG、PNG、OFD"


def max_upload_bytes() -> int:
    return int(getattr(settings, "CASE_UPLOAD_MAX_BYTES", 10 * 1024 * 1024))


def sniff_upload(*, name: str, content: bytes) -> Sniffed:
    limit = max_upload_bytes()
    if not content:
        raise ValidationError({"file": [_("文件是空的，请重新选择。")]})
    if len(content) > limit:
        raise ValidationError(
            {"file": [_("文件超过大小限制（最大 %(size)s）。") % {"size": filesizeformat(limit)}]}
        )
    suffix = PurePath(name).suffix.lower()
    for magic, content_type, extension, names in _SIGNATURES:
        if content.startswith(magic):
            if magic == b"PK\x03\x04" and b"OFD.xml" not in content[:4096]:
                break
            if suffix not in names:
                raise ValidationError(
                    {
                        "file": [
                            _("文件内容与扩展名不符（内容是 %(kind)s）。")
                            % {"kind": extension[1:].upper()}
                        ]
                    }
                )
            return Sniffed(content_type, extension)
    raise ValidationError(
        {"file": [_("不支持的文件类型，请上传 %(kinds)s 文件。") % {"kinds": ACCEPTED_LABEL}]}
    )
