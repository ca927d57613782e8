#!/usr/bin/env bash
#
# Writes the golden fixtures of the current journal/backup format version into
# tests/fixtures/v<N>/: a small journal folder (checkpoint + later log entries), a backup, and
# the namespace both must load to (`expected-ls.txt`, `ls -R` in UTC without the in-Alluxio column).
# Run once per released format version and commit the result; never regenerate an old version.

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo build -q -p alluxio-cli
B=$PWD/target/debug/alluxio
V=$($B version | sed -n 's/^Journal format version: \([0-9]*\).*/\1/p')
OUT=tests/fixtures/v$V
if [[ -e "$OUT" && "${1:-}" != "--force" ]]; then
  echo "$OUT exists: fixtures of a released format version are never regenerated" >&2
  exit 1
fi
WORK=$(mktemp -d)
SHM=/dev/shm/alluxio-fixtures-$$
trap 'kill $MP $WP 2>/dev/null || true; rm -rf "$WORK" "$SHM"' EXIT
export ALLUXIO_HOME=$WORK TZ=UTC
mkdir -p "$WORK/conf"
cat >"$WORK/conf/alluxio-site.properties" <<CONF
alluxio.master.rpc.port=41998
alluxio.master.web.port=41999
alluxio.worker.rpc.port=42999
alluxio.worker.web.port=43000
alluxio.worker.tieredstore.level0.dirs.path=$SHM
alluxio.worker.ramdisk.size=64MB
alluxio.user.block.size.bytes.default=1KB
CONF
$B format >/dev/null
$B process master >"$WORK/master.log" 2>&1 & MP=$!
$B process worker >"$WORK/worker.log" 2>&1 & WP=$!
until $B fsadmin report 2>/dev/null | grep -q "Live Workers: 1"; do sleep 0.1; done

printf 'fixture data %.0s' {1..300} >"$WORK/data.txt"   # 4.2 KB: five 1 KB blocks
$B fs mkdir /dir/nested/deep /other
for wt in MUST_CACHE CACHE_THROUGH THROUGH ASYNC_THROUGH; do
  $B fs -Dalluxio.user.file.writetype.default=$wt copyFromLocal "$WORK/data.txt" "/dir/$wt.txt" >/dev/null
done
$B fs touch /dir/nested/empty >/dev/null
$B fs chmod 700 /dir/nested >/dev/null
$B fs pin /dir/CACHE_THROUGH.txt >/dev/null
$B fs setTtl /dir/THROUGH.txt 86400000 >/dev/null
mkdir -p "$WORK/mounted"
echo "in a mount" >"$WORK/mounted/file"
$B fs mount /mnt "$WORK/mounted" >/dev/null
$B fs ls -R /mnt >/dev/null
until ! $B fs ls -R / | grep -q TO_BE_PERSISTED; do sleep 0.1; done
$B fsadmin journal checkpoint >/dev/null
# Entries after the checkpoint.
$B fs mv /other /dir/nested/deep/moved >/dev/null
$B fs rm /dir/ASYNC_THROUGH.txt >/dev/null
$B fs mkdir /after/checkpoint >/dev/null
$B fsadmin backup "$WORK" --local >/dev/null
$B fs ls -R / | awk '{ $8=""; print }' >"$WORK/expected-ls.txt"
kill $MP $WP
wait $MP $WP 2>/dev/null || true

rm -rf "$OUT"
mkdir -p "$OUT"
cp -r "$WORK/journal" "$OUT/journal"
cp "$WORK"/alluxio-backup-*.gz "$OUT/backup.gz"
cp "$WORK/expected-ls.txt" "$OUT/expected-ls.txt"
echo "Wrote $OUT:"
find "$OUT" -type f | sort
