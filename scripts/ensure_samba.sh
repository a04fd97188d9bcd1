#!/usr/bin/env bash
# Makes sure Samba's Active Directory domain controller is installed (Debian `samba`,
# `samba-ad-dc`, `samba-ad-provision`, `winbind`, `krb5-user`, `ldb-tools`): the AD mapping
# test of the directory sync provisions a private domain with it in a temp dir and starts it
# on the loopback interface. The system's samba services are neither needed nor started.
set -euo pipefail
if command -v samba-tool >/dev/null 2>&1 && command -v samba >/dev/null 2>&1; then
  echo "samba (AD DC) is installed"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "samba is missing and apt-get is not available: install Samba's AD DC packages" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
pkgs="samba samba-ad-dc samba-ad-provision winbind krb5-user ldb-tools"
echo "installing $pkgs (apt-get install)"
if ! apt-get install -y $pkgs; then
  echo "package lists may be stale: running apt-get update once, then installing again"
  apt-get update
  apt-get install -y $pkgs
fi
echo "samba (AD DC) is installed"
