#!/usr/bin/env bash
#
# Coverage-guided fuzzing (libFuzzer, through the libfuzzer-sys crate) of every decoder of bytes
# that come from disk or the network: the targets in fuzz/fuzz_targets. Runs on stable Rust by
# passing the coverage instrumentation flags that cargo-fuzz would pass.
#
#   scripts/fuzz.sh [seconds per target, default 60] [target ...]   (default: every target)
#
# Seeds (valid inputs) come from crates/journal/tests/fuzz_seeds.rs; the corpus grows in
# fuzz/corpus/<target>. A crash leaves its input in fuzz/artifacts/<target>/ and fails the script.

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SECS=${1:-60}
shift || true

ALLUXIO_FUZZ_SEEDS="$PWD/fuzz/seeds" cargo test -q -p alluxio-journal --locked --test fuzz_seeds >/dev/null

cd fuzz
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing"
# An explicit --target keeps these flags off build scripts and proc macros (as cargo-fuzz does).
HOST=$(rustc -vV | sed -n 's/^host: //p')
cargo build --release --locked --bins --target "$HOST"
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  mapfile -t targets < <(ls fuzz_targets | sed 's/\.rs$//')
fi
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t" "seeds/$t"
  echo "fuzzing $t for ${SECS}s"
  "target/$HOST/release/$t" -max_total_time="$SECS" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="artifacts/$t/" "corpus/$t" "seeds/$t" 2>"artifacts/$t/log" || {
    tail -40 "artifacts/$t/log" >&2
    echo "fuzz target $t failed; the input is in fuzz/artifacts/$t/" >&2
    exit 1
  }
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "artifacts/$t/log" | tr '\n' ' '
  echo
done
