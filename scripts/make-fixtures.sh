#!/usr/bin/env bash
#
# Writes the golden fixtures of the current journal/backup format version into
# tests/fixtures/v<N>/: a small UFS journal folder (checkpoint + later log entries), a backup,
# and the namespace both must load to (`expected-ls.txt`, `ls -R` in UTC without the
# in-Alluxio column); and in embedded/ the same for the EMBEDDED journal (a Raft snapshot, the
# Raft log after it, its own expected-ls.txt). Run once per released format version and commit
# the result; never regenerate an old version. `--embedded` adds only embedded/ to a version
# recorded before the Raft journal had fixtures.

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo build -q -p alluxio-cli
B=$PWD/target/debug/alluxio
V=$($B version | sed -n 's/^Journal format version: \([0-9]*\).*/\1/p')
OUT=tests/fixtures/v$V
ONLY_EMBEDDED=false
[[ "${1:-}" == "--embedded" ]] && ONLY_EMBEDDED=true
if $ONLY_EMBEDDED; then
  [[ -e "$OUT/embedded" ]] && { echo "$OUT/embedded exists: fixtures are never regenerated" >&2; exit 1; }
elif [[ -e "$OUT" ]]; then
  echo "$OUT exists: fixtures of a released format version are never regenerated" >&2
  exit 1
fi
SHM=/dev/shm/alluxio-fixtures-$$
MP= WP=
export TZ=UTC

# record <journal type> <work dir>: a cluster on fixed ports (the Raft log names its members:
# the test loads the EMBEDDED fixture on the same embedded journal port), the same operations.
record() {
  local type=$1 work=$2
  export ALLUXIO_HOME=$work
  mkdir -p "$work/conf"
  cat >"$work/conf/alluxio-site.properties" <<CONF
alluxio.master.hostname=localhost
alluxio.master.rpc.port=41998
alluxio.master.web.port=41999
alluxio.master.embedded.journal.port=41997
alluxio.master.journal.type=$type
alluxio.worker.rpc.port=42999
alluxio.worker.web.port=43000
alluxio.worker.tieredstore.level0.dirs.path=$SHM
alluxio.worker.ramdisk.size=64MB
alluxio.user.block.size.bytes.default=1MB
CONF
  $B format >/dev/null
  $B process master >"$work/master.log" 2>&1 & MP=$!
  $B process worker >"$work/worker.log" 2>&1 & WP=$!
  until $B fsadmin report 2>/dev/null | grep -q "Live Workers: 1"; do sleep 0.1; done

  printf "fixture data %.0s" {1..300} >"$work/data.txt"   # 4.2 KB, one block
  $B fs mkdir /dir/nested/deep /other >/dev/null
  for wt in MUST_CACHE CACHE_THROUGH THROUGH ASYNC_THROUGH; do
    $B fs -Dalluxio.user.file.writetype.default=$wt copyFromLocal "$work/data.txt" "/dir/$wt.txt" >/dev/null
  done
  $B fs touch /dir/nested/empty >/dev/null
  $B fs chmod 700 /dir/nested >/dev/null
  $B fs pin /dir/CACHE_THROUGH.txt >/dev/null
  $B fs setTtl /dir/THROUGH.txt 86400000 >/dev/null
  mkdir -p "$work/mounted"
  echo "in a mount" >"$work/mounted/file"
  $B fs mount /mnt "$work/mounted" >/dev/null
  $B fs ls -R /mnt >/dev/null
  until ! $B fs ls -R / | grep -q TO_BE_PERSISTED; do sleep 0.1; done
  $B fsadmin journal checkpoint >/dev/null
  # Entries after the checkpoint (or snapshot).
  $B fs mv /other /dir/nested/deep/moved >/dev/null
  $B fs rm /dir/ASYNC_THROUGH.txt >/dev/null
  $B fs mkdir /after/checkpoint >/dev/null
  [[ $type == UFS ]] && $B fsadmin backup "$work" --local >/dev/null
  $B fs ls -R / | awk '{ $8=""; print }' >"$work/expected-ls.txt"
  kill $MP $WP
  wait $MP $WP 2>/dev/null || true
  MP= WP=
  rm -rf "$SHM"
}

UFS_WORK=$(mktemp -d) EMB_WORK=$(mktemp -d)
trap 'kill $MP $WP 2>/dev/null || true; rm -rf "$SHM" "$UFS_WORK" "$EMB_WORK"' EXIT
if ! $ONLY_EMBEDDED; then
  record UFS "$UFS_WORK"
  mkdir -p "$OUT"
  cp -r "$UFS_WORK/journal" "$OUT/journal"
  cp "$UFS_WORK"/alluxio-backup-*.gz "$OUT/backup.gz"
  cp "$UFS_WORK/expected-ls.txt" "$OUT/expected-ls.txt"
fi
record EMBEDDED "$EMB_WORK"
mkdir -p "$OUT/embedded"
cp -r "$EMB_WORK/journal" "$OUT/embedded/journal"
rm -f "$OUT/embedded/journal/.alluxio.lock"
cp "$EMB_WORK/expected-ls.txt" "$OUT/embedded/expected-ls.txt"
echo "Wrote $OUT:"
find "$OUT" -type f | sort
