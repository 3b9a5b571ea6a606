"""PDF documents from HTML with WeasyPrint, and how to hand them out as downloads.

Fonts come from the system (Debian fonts-noto-cjk); WeasyPrint embeds the subsets it uses, so a
document reads the same everywhere and for years. Never render inside a view's loop or a transaction
that holds locks: a page of Chinese text takes a fraction of a second, a long guide more.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

from django.contrib.staticfiles import finders
from django.core.exceptions import ImproperlyConfigured


def static_stylesheet(path: str) -> Path:
    """The file behind a static path such as "catalog/guide-print.css"."""
    found = finders.find(path)
    if not found:
        raise ImproperlyConfigured(f"找不到样式表 {path}。")
    return Path(found if isinstance(found, str) else found[0])


def render_pdf(*, html: str, stylesheets: Sequence[Path] = (), base_url: str = "") -> bytes:
    """Render an HTML document to PDF bytes with the given print stylesheets."""
    # Imported here: WeasyPrint loads pango and fonts, which only PDF requests should pay for.
    from weasyprint import CSS, HTML

    return bytes(
        HTML(string=html, base_url=base_url or None).write_pdf(
            stylesheets=[CSS(filename=str(path)) for path in stylesheets]
        )
    )


def attachment_header(filename: str, *, fallback: str) -> str:
    """Content-Disposition for a download with a Chinese name (RFC 5987 / RFC 6266).

    `fallback` is a plain-ASCII name for the rare client that ignores filename*.
    """
    ascii_name = fallback.encode("ascii", "ignore").decode().replace('"', "").replace("\\", "")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
