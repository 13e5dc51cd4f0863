#!/usr/bin/env bash
# Installs the Debian packages hark needs, only those missing. Runs as root (or through sudo when present).
set -euo pipefail

packages=(
  build-essential python3      # node-gyp toolchain
  libfaiss-dev                 # FAISS 1.7.3 (static) for the k-NN addon; OpenMP (libgomp) comes with gcc
  libopenblas0-openmp          # a fast BLAS; without it Debian may select the reference BLAS (10x slower)
  liblapack-dev libblas-dev    # link-time BLAS/LAPACK for the addon
  chromium                     # browser for the end-to-end tests
  docker-compose               # validates docker-compose.yml without an engine
  haproxy                      # checks the cluster profile's load-balancer config (haproxy -c)
  alsa-utils                   # arecord for `hark sensor --alsa`
  mosquitto                    # MQTT broker the notification tests start on loopback
  unzip                        # checks the alert bundle (zip) in the export test
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "hark: installing Debian packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "hark: need root (or sudo) to install ${missing[*]}" >&2; exit 1; }
    SUDO=sudo
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# FAISS's exact search runs at BLAS speed: the reference BLAS, if Debian's alternatives select it, is ~10x
# slower than OpenBLAS. Say so rather than let `hark bench knn` find out.
blas=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || true)
if [ -n "$blas" ] && [[ "$blas" != *openblas* ]]; then
  echo "hark: warning: libblas.so.3 resolves to $blas (not OpenBLAS); FAISS exact search will be slow." >&2
  echo "hark:          fix: update-alternatives --config libblas.so.3-x86_64-linux-gnu" >&2
fi
