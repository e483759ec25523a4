#!/usr/bin/env bash
# Installs the Debian packages swift-danet builds against, if any is missing.
set -euo pipefail
packages=(libzip-dev libopenblas0 libpng-dev libturbojpeg0-dev pkg-config)
missing=()
for package in "${packages[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y "${missing[@]}"
fi
