#!/usr/bin/env bash
# Makes sure OpenLDAP's server and tools (Debian `slapd`, `ldap-utils`) and openssl are
# installed: the directory sync tests start a private slapd of their own (own configuration
# directory, free ports, a certificate made at start). The system slapd service is neither
# needed nor started (the package's post-install start is left to policy-rc.d / the init
# system; the tests never talk to it).
set -euo pipefail
have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }
if have slapd && have slapadd && have ldapmodify && have openssl; then
  echo "slapd, ldap-utils and openssl are installed"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "slapd/ldap-utils are missing and apt-get is not available: install OpenLDAP's slapd and client tools" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
echo "installing slapd, ldap-utils and openssl (apt-get install)"
if ! apt-get install -y --no-install-recommends slapd ldap-utils openssl; then
  echo "package lists may be stale: running apt-get update once, then installing again"
  apt-get update
  apt-get install -y --no-install-recommends slapd ldap-utils openssl
fi
have slapd && have ldapmodify || { echo "slapd/ldap-utils still missing after install" >&2; exit 1; }
echo "slapd, ldap-utils and openssl are installed"
