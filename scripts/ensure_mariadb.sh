#!/usr/bin/env bash
# Makes sure the local MariaDB (127.0.0.1:3306, root with an empty password) answers; starts
# the Debian server if it is installed but down. The live MariaDB target tests need it.
set -euo pipefail
ready() { mysqladmin -h 127.0.0.1 -P 3306 -u root --connect-timeout=2 ping >/dev/null 2>&1; }
if ready; then echo "MariaDB is up"; exit 0; fi
if [ -x /usr/sbin/mariadbd ]; then
  echo "starting MariaDB (mariadbd)"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
  for _ in $(seq 1 30); do ready && { echo "MariaDB is up"; exit 0; }; sleep 1; done
fi
echo "MariaDB is not reachable at 127.0.0.1:3306; the live MariaDB tests need it" >&2
exit 1
