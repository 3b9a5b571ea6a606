"""PDF rendering and QR codes: Chinese text survives, fonts travel with the file, codes decode."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote

import pytest

from tongban.core.pdf import attachment_header, render_pdf
from tongban.core.qrcode import qr_svg, qr_svg_data_uri

needs_poppler = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("pdftotext", "pdffonts", "pdftoppm", "zbarimg")),
    reason="poppler-utils 和 zbar-tools 未安装",
)


def run(*args: str | Path) -> str:
    return subprocess.run([str(a) for a in args], check=True, capture_output=True, text=True).stdout


@needs_poppler
def test_chinese_text_reads_back_with_embedded_fonts(tmp_path: Path) -> None:
    # given
    html = '<p class="notice">不予受理决定书：申请材料不齐全。</p>'
    stylesheet = tmp_path / "print.css"
    stylesheet.write_text('.notice { font-family: "Noto Serif CJK SC"; }', encoding="utf-8")

    # when
    path = tmp_path / "notice.pdf"
    path.write_bytes(render_pdf(html=html, stylesheets=[stylesheet]))

    # then
    assert "不予受理决定书：申请材料不齐全。" in run("pdftotext", path, "-")
    fonts = run("pdffonts", path).splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts)
    assert any("Noto-Serif-CJK-SC" in line for line in fonts)


@needs_poppler
def test_a_qr_code_in_a_pdf_decodes_to_its_address(tmp_path: Path) -> None:
    # given
    address = "https://zwfw.example.gov.cn/items/430981-00001/?region=430981"
    html = f'<img src="{qr_svg_data_uri(address)}" width="120" height="120" alt="">'
    path = tmp_path / "qr.pdf"
    path.write_bytes(render_pdf(html=html))

    # when
    run("pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", path, tmp_path / "page")
    (image,) = tmp_path.glob("page*.png")

    # then
    assert run("zbarimg", "--raw", "-q", image).strip() == address


def test_inline_qr_svg_needs_no_style_attribute() -> None:
    # when
    svg = qr_svg("https://example.org/", title="本页二维码", css_class="qr")

    # then: the Content-Security-Policy forbids inline styles
    assert svg.startswith('<svg viewBox="') and 'class="qr"' in svg
    assert "<title>本页二维码</title>" in svg
    assert "style" not in svg


def test_a_chinese_file_name_is_encoded_for_every_browser() -> None:
    # when
    header = attachment_header("办事指南-食品经营许可.pdf", fallback='guide-"1".pdf')

    # then
    assert header.startswith('attachment; filename="guide-1.pdf"; ')
    encoded = header.split("filename*=UTF-8''", 1)[1]
    assert encoded.isascii() and unquote(encoded) == "办事指南-食品经营许可.pdf"
