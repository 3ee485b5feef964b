#!/bin/sh
# /usr/bin/onlinesupport from the Debian package: the installed program with the installed
# settings. Run as root, it acts as the service user, so files it makes in the data folder
# (a restored database, new accounts) stay usable by the service.
: "${ONLINESUPPORT_CONFIG:=/etc/onlinesupport/onlinesupport.toml}"
export ONLINESUPPORT_CONFIG
if [ "$(id -u)" -eq 0 ]; then
    exec runuser -u onlinesupport -- /opt/onlinesupport/onlinesupport "$@"
fi
exec /opt/onlinesupport/onlinesupport "$@"
