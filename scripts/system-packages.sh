#!/usr/bin/env bash
# Install the Debian packages tongban needs when they are missing and apt can be used.
#   fonts     Noto CJK fonts (Chinese in PDFs and screenshots)
#   chromium  Debian's Chromium for the browser tests
#   postgres  PostgreSQL 15 server binaries for the throwaway test database
#   pango     the text layout library WeasyPrint renders PDFs with
#   pdf, zbar poppler's pdftotext and zbarimg, with which tests read PDFs and QR codes back
# Without apt (or without root) it says what is missing and leaves the decision to the caller.
set -uo pipefail

need=()
for what in "$@"; do
  case "$what" in
    fonts) fc-list 2>/dev/null | grep -i "Noto Sans CJK" >/dev/null || need+=(fonts-noto-cjk) ;;
    chromium) [ -x /usr/bin/chromium ] || need+=(chromium) ;;
    postgres) ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql) ;;
    pdf) command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils) ;;
    zbar) command -v zbarimg >/dev/null 2>&1 || need+=(zbar-tools) ;;
    pango) ldconfig -p 2>/dev/null | grep "libpangoft2-1.0" >/dev/null || need+=(libpango-1.0-0 libpangoft2-1.0-0) ;;
    *) echo "unknown system package group: $what" >&2; exit 2 ;;
  esac
done
[ ${#need[@]} -eq 0 ] && exit 0

if command -v apt-get >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
  echo "正在安装系统软件包：${need[*]}"
  if $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; then
    exit 0
  fi
fi
echo "缺少系统软件包：${need[*]}（请用系统的包管理器安装）。" >&2
exit 1
