#!/usr/bin/env bash
# Installs the Debian 12 packages MLA Lab needs (only those missing), then configures and
# builds build/ (Release, -O2). Used by run-app.sh and test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(cmake g++ make pkg-config libimgui-dev libglfw3-dev libeigen3-dev catch2 libepoxy-dev
          nlohmann-json3-dev libstb-dev libcli11-dev libpcre2-dev libutf8proc-dev xvfb xauth libgl1-mesa-dri fonts-dejavu-core clang)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DMLA_NATIVE="${MLA_NATIVE:-ON}" > build-configure.log 2>&1 ||
  { cat build-configure.log; exit 1; }
cmake --build build -j"$(nproc)"
