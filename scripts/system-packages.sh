#!/usr/bin/env bash
# Debian packages the test suite talks to for real: a PostgreSQL server, espeak-ng (prompt audio),
# sox (checks the audio), SIPp (sip-tester, a real SIP peer) and Chromium (the dashboard's browser
# tests, driven by playwright with executable_path=/usr/bin/chromium). Installs only what is missing (needs root); prints what it does.
set -euo pipefail
need=()
command -v espeak-ng >/dev/null || need+=(espeak-ng)
command -v sox >/dev/null || need+=(sox)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v sipp >/dev/null || need+=(sip-tester)
command -v chromium >/dev/null || need+=(chromium)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
    echo "missing system packages: ${need[*]} (run as root, or: sudo apt-get install -y ${need[*]})" >&2
    exit 0
fi
echo "installing system packages: ${need[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
