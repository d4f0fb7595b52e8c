#!/usr/bin/env bash
# Installs what Fourscore needs on Debian 12 with apt-get: the build tools and
# libraries, MariaDB (the local-mode server), and what the tests use (Chromium,
# CJK fonts, poppler-utils to read printed PDFs, wrk, nginx, clang for the
# fuzzer, node for the browser tests, aiosmtpd for the tests' SMTP receiver).
# Idempotent and quiet when everything is already there.
set -euo pipefail
need=(build-essential cmake pkg-config clang libclang-rt-14-dev
      libmicrohttpd-dev libmariadb-dev liblua5.4-dev libcjson-dev libsodium-dev libxlsxwriter-dev zlib1g-dev libcurl4-openssl-dev
      mariadb-server mariadb-client mariadb-plugin-spider python3-aiosmtpd
      nodejs npm chromium fonts-noto-cjk poppler-utils wrk nginx-light docker-compose curl ca-certificates)
[ "${1:-}" = "--runtime-only" ] && need=(build-essential cmake pkg-config libmicrohttpd-dev libmariadb-dev
      liblua5.4-dev libcjson-dev libsodium-dev libxlsxwriter-dev zlib1g-dev libcurl4-openssl-dev mariadb-server mariadb-client)
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node and npm may come from elsewhere than Debian's packages; accept what works
if command -v node >/dev/null && command -v npm >/dev/null; then
  tmp=(); for p in "${missing[@]}"; do [ "$p" = nodejs ] || [ "$p" = npm ] || tmp+=("$p"); done
  missing=("${tmp[@]+"${tmp[@]}"}")
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # keep the Debian mariadb service from starting: Fourscore runs its own private server
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# the browser tests' driver, from npm, into tests/web/node_modules
if [ "${1:-}" != "--runtime-only" ] && [ ! -d "$(dirname "$0")/../tests/web/node_modules/playwright-core" ]; then
  echo "Installing playwright-core (npm) for the browser tests"
  (cd "$(dirname "$0")/../tests/web" && npm install --no-audit --no-fund --silent >/dev/null)
fi
