#!/usr/bin/env bash
# Services the test suite talks to: PostgreSQL with PostGIS, Chromium for browser tests, and
# QGIS (python3-qgis, Debian's /usr/bin/python3) to open the QField projects and exported
# shapefiles, LibreOffice Calc and poppler-utils to print ledgers to PDF.
# Installs what is missing when apt-get is usable (root); otherwise says what is missing and
# lets the tests skip (or fail, under LVDUN_REQUIRE_SERVICES=1).
set -uo pipefail

have_apt() { command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; }
pg_version() { ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -n 1; }

apt_updated=0
apt_install() {
  if ! have_apt; then echo "services: cannot install $* (needs root and apt-get)"; return 1; fi
  if [ "$apt_updated" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null && apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ver=$(pg_version)
if [ -n "$ver" ]; then
  if [ ! -f "/usr/share/postgresql/$ver/extension/postgis.control" ]; then
    echo "services: installing PostGIS for PostgreSQL $ver"
    apt_install "postgresql-$ver-postgis-3" || true
  fi
  if ! pg_isready -q -h localhost -p 5432 2>/dev/null; then
    echo "services: starting PostgreSQL $ver"
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start 2>/dev/null || true
    for _ in $(seq 1 20); do pg_isready -q -h localhost -p 5432 && break; sleep 0.5; done
  fi
else
  echo "services: no PostgreSQL server installed; PostGIS tests will skip"
fi

if ! fc-list :lang=zh 2>/dev/null | grep -q .; then
  echo "services: installing a Chinese font (charts, screenshots)"
  apt_install fonts-wqy-zenhei || true
fi

if [ ! -x /usr/bin/chromium ]; then
  echo "services: installing Chromium"
  apt_install chromium || true
fi

if ! /usr/bin/python3 -c "import qgis.core" >/dev/null 2>&1; then
  echo "services: installing QGIS (python3-qgis: opening QField projects in the tests)"
  apt_install python3-qgis || true
fi

if ! command -v libreoffice >/dev/null 2>&1 || ! command -v pdftotext >/dev/null 2>&1; then
  echo "services: installing LibreOffice Calc and poppler-utils (ledgers printed to PDF)"
  apt_install --no-install-recommends libreoffice-calc poppler-utils || true
fi
exit 0
