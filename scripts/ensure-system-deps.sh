#!/usr/bin/env bash
# WeasyPrint (the PDF renderer) needs Pango, fontconfig and HarfBuzz-Subset from the system, and
# the venv needs ensurepip. Install what is missing from Debian's packages when we may (root, apt-get); otherwise say what to do.
# The tests also open the HTML report in headless Chromium (/usr/bin/chromium, driven by Playwright);
# it is installed the same way when we may, but without it only those tests skip, so it is never fatal.
# The service tests run on SQLite and on a PostgreSQL server they start themselves from Debian's
# postgresql package (installed the same way; in CI its absence fails those tests).
# The Spark engine's tests need a Java 17+ runtime (pyspark runs on the JVM): Debian's
# default-jre-headless, installed the same way; in CI its absence fails those tests.
set -euo pipefail
have_lib() { "${PYTHON:-python3}" -c "import ctypes.util, sys; sys.exit(0 if ctypes.util.find_library('$1') else 1)"; }
need=()
have_lib pango-1.0 || need+=(libpango-1.0-0)
have_lib pangoft2-1.0 || need+=(libpangoft2-1.0-0)
have_lib fontconfig || need+=(fontconfig)
have_lib harfbuzz-subset || need+=(libharfbuzz-subset0)
# Debian's own python3 ships venv's ensurepip separately.
"${PYTHON:-python3}" -c "import ensurepip" >/dev/null 2>&1 || need+=("python3-venv")
optional=()
[ -x /usr/bin/chromium ] || optional+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || optional+=(postgresql)
command -v java >/dev/null 2>&1 || optional+=(default-jre-headless)
can_install() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }
if [ ${#optional[@]} -gt 0 ] && ! can_install; then
  echo "note: ${optional[*]} is missing, so the headless-browser tests (chromium) the PostgreSQL service tests or the Spark engine tests (java) will skip (sudo apt-get install ${optional[*]})" >&2
  optional=()
fi
[ ${#optional[@]} -eq 0 ] || need+=("${optional[@]}")
[ ${#need[@]} -eq 0 ] && exit 0
if can_install; then
  echo "installing system packages auditor needs: ${need[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
else
  echo "missing system packages auditor needs: ${need[*]} (install them, e.g. sudo apt-get install ${need[*]})" >&2
  exit 1
fi
