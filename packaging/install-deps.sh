#!/usr/bin/env bash
# Installs everything Switchyard's build and tests need, from Debian 12's apt only.
# Idempotent: re-running it installs nothing new.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libtorch-dev libopenblas0-pthread
  qt6-base-dev qt6-svg-dev libqcustomplot-dev libqcustomplot2.1-qt6 libgl-dev
  xvfb xauth
  libhdf5-dev hdf5-tools
  libgtest-dev libgmock-dev
  libcli11-dev nlohmann-json3-dev libpcre2-dev libicu-dev
  libglpk-dev
  libgloo-dev
  python3 python3-h5py python3-pandas python3-torch   # python3-torch: bench/torch_reference.py
  dpkg-dev groff-base zsh
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "install-deps: all ${#PACKAGES[@]} packages present"
