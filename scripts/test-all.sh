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

export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
cargo build --workspace --all-targets --locked
cargo test --workspace --locked "$@"
