# Sourced by the scripts/ensure_*.sh that install Debian packages.
# apt_install WHAT PKG...: installs PKG... with apt-get (no recommended extras), once with the
# current package lists and, if that fails (the lists may be stale), again after one
# `apt-get update`. WHAT names the tool for the message when apt-get is missing.
apt_install() {
  local what=$1
  shift
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "$what is missing and apt-get is not available: install $* yourself" >&2
    return 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  echo "installing $* (apt-get install)"
  if ! apt-get install -y --no-install-recommends "$@"; then
    echo "package lists may be stale: running apt-get update once, then installing again"
    apt-get update
    apt-get install -y --no-install-recommends "$@"
  fi
}
