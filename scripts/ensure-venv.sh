#!/bin/sh
# Create the project's virtual environment; on Debian/Ubuntu install python3-venv first if it is missing.
set -eu
python=${1:-python3}
venv=${2:-.venv}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "OnlineSupport needs Python 3.11 or newer; '$python' is $("$python" --version 2>&1)." >&2
    exit 1
fi
if ! "$python" -m venv "$venv" 2>/dev/null; then
    rm -rf "$venv"
    if command -v apt-get >/dev/null 2>&1; then
        sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
        echo "Installing python3-venv with apt-get..." >&2
        $sudo apt-get update -q && $sudo apt-get install -y -q python3-venv
        "$python" -m venv "$venv"
    else
        echo "Could not create a virtual environment: install the venv module for $python." >&2
        exit 1
    fi
fi
