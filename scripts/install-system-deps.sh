#!/bin/sh
# Install the Debian packages the test suite drives, only when they are missing:
# Chromium (browser tests through Playwright), Dovecot (a private IMAP server for the email
# tests), openssl (test certificates) and systemd-analyze (checks the package's unit file).
set -eu
missing=""
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
[ -x /usr/sbin/dovecot ] || missing="$missing dovecot-imapd"
command -v systemd-analyze >/dev/null 2>&1 || missing="$missing systemd"
[ -z "$missing" ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
    echo "Please install:$missing (the tests need them)." >&2
    exit 1
fi
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "Installing Debian packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
# shellcheck disable=SC2086
$sudo apt-get install -y -q --no-install-recommends $missing
