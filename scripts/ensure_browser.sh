#!/usr/bin/env bash
# Browser tests need Debian's Chromium and a CJK font (without it Chinese renders as empty boxes).
# A fresh machine has neither and no browser can be downloaded, so install both from Debian.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
# (not `fc-list | grep -q`: grep exits at the first match and pipefail then sees fc-list's SIGPIPE)
fonts=$(fc-list : family 2>/dev/null || true)
[[ "$fonts" == *"Noto Sans CJK"* ]] || missing+=(fonts-noto-cjk)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
echo "installing ${missing[*]} from Debian (browser tests need them)" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" fontconfig >/dev/null
