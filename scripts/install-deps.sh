#!/usr/bin/env bash
# Installs what gcml needs from Debian (idempotent): the C libraries it links,
# h5dump for inspecting artifacts, the compression CLIs the tests use, and the
# cluster runtime: OpenMPI (ranks and collectives) and Slurm with munge (the
# scheduler the pipeline's sbatch script and its one-node test cluster use).
# Test-only Python readers (h5py, hdf5plugin, numpy) come from PyPI with --python;
# --bench adds the benchmark peers (faiss-cpu, CPU PyTorch, scikit-learn, scipy), used by `make bench` only.
set -euo pipefail

packages=(libhdf5-dev hdf5-tools libopenblas-dev libzstd-dev zlib1g-dev pkg-config zstd gzip
          openmpi-bin libopenmpi-dev slurm-wlm munge time)
# Installs Debian packages as root or through sudo.
apt_install() {
  local sudo
  if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
    echo "install-deps: need root or sudo to install: $*" >&2; exit 1; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  apt_install "${missing[@]}"
fi

# pip into the interpreter the tests run (python3 on PATH); a Debian python3 marks itself externally
# managed (PEP 668), which refuses plain `pip install`, so retry with --break-system-packages there.
pip_install() {
  python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore "$@" 2>/dev/null ||
    python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore --break-system-packages "$@"
}

if [ "${1:-}" = "--python" ] || [ "${1:-}" = "--bench" ]; then
  if ! python3 -m pip --version >/dev/null 2>&1; then
    echo "install-deps: installing python3 and pip (Debian)" >&2
    apt_install python3 python3-pip
  fi
  if ! python3 -c 'import h5py, hdf5plugin, numpy, google.protobuf, crc32c' 2>/dev/null; then
    echo "install-deps: installing test-only Python readers (h5py, hdf5plugin, numpy, protobuf, crc32c)" >&2
    pip_install h5py hdf5plugin numpy protobuf crc32c
  fi
fi

if [ "${1:-}" = "--bench" ]; then
  if ! python3 -c 'import faiss, torch, sklearn, scipy' 2>/dev/null; then
    echo "install-deps: installing benchmark peers (faiss-cpu, torch 2.13 CPU, scikit-learn, scipy)" >&2
    pip_install faiss-cpu "torch==2.13.0+cpu" scikit-learn scipy
  fi
fi
