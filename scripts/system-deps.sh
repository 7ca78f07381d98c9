#!/usr/bin/env bash
# Debian packages the test suite needs: a PostgreSQL server (the store tests start their
# own throw-away instance on 127.0.0.1), Chromium (browser tests of the Voilà apps) and nginx
# (the reverse-proxy test runs it unprivileged from a temporary directory).
set -euo pipefail
need=()
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need+=(postgresql)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || need+=(nginx)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
echo "installing Debian packages: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# the package's own nginx site is not used; keep it from holding port 80
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now nginx >/dev/null 2>&1 || true
elif [ -x /etc/init.d/nginx ]; then
  $SUDO /etc/init.d/nginx stop >/dev/null 2>&1 || true
fi
# the package's own cluster is not used; keep it from holding port 5432
if command -v pg_lsclusters >/dev/null 2>&1; then
  pg_lsclusters -h 2>/dev/null | while read -r ver name _; do $SUDO pg_ctlcluster "$ver" "$name" stop 2>/dev/null || true; done
fi
