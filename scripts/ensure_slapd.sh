#!/usr/bin/env bash
# Makes sure OpenLDAP's server and tools (Debian `slapd`, `ldap-utils`) and openssl are
# installed: the directory sync tests start a private slapd of their own (own configuration
# directory, free ports, a certificate made at start). The system slapd service is neither
# needed nor started (the package's post-install start is left to policy-rc.d / the init
# system; the tests never talk to it).
set -euo pipefail
source "$(dirname "$0")/lib/apt.sh"
have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }
if have slapd && have slapadd && have ldapmodify && have openssl; then
  echo "slapd, ldap-utils and openssl are installed"
  exit 0
fi
apt_install "OpenLDAP's slapd and client tools" slapd ldap-utils openssl
have slapd && have ldapmodify || { echo "slapd/ldap-utils still missing after install" >&2; exit 1; }
echo "slapd, ldap-utils and openssl are installed"
