"""QR codes (segno) as SVG: inline markup for pages, data URIs for PDFs.

SVG only, never a raster image: it stays sharp when printed and needs no image library. The markup
carries no style attribute, so it passes the Content-Security-Policy (style-src 'self').
"""

from __future__ import annotations

import segno

# M recovers from about 15 % damage: enough for a printed sheet on a counter, still a small symbol.
ERROR_LEVEL = "m"


def qr_svg(data: str, *, title: str = "", css_class: str = "qr") -> str:
    """Inline <svg> markup that scales to its box (viewBox, no fixed size)."""
    code = segno.make(data, error=ERROR_LEVEL, micro=False)
    return str(
        code.svg_inline(
            scale=1,
            border=4,
            omitsize=True,
            title=title or None,
            svgclass=css_class,
            lineclass=None,
        )
    )


def qr_svg_data_uri(data: str) -> str:
    """A data: URI of the SVG, for an <img> in a document rendered to PDF."""
    code = segno.make(data, error=ERROR_LEVEL, micro=False)
    return str(code.svg_data_uri(scale=4, border=4))
