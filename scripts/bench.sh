#!/usr/bin/env bash
#
# Reproduces the figures in docs/benchmarks.md: every figure is a ratio against a baseline
# measured in the same run. Needs ~4 GB free in /dev/shm and ~2 GB in $TMPDIR.
#
#   scripts/bench.sh [metadata] [security] [tls] [data] [startup] [cache] [checksums] [s3] [ha]   (default: all)

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo build --release -q -p alluxio-cli
B=$PWD/target/release/alluxio
WANT=${*:-metadata security tls data startup cache checksums s3 ha}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/alluxio-bench.XXXXXX")
SHM=/dev/shm/alluxio-bench-$$
export ALLUXIO_HOME=$WORK
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
MP=$(port); WP=$(port)
mkdir -p "$WORK/conf"
cat >"$WORK/conf/alluxio-site.properties" <<CONF
alluxio.master.rpc.port=$MP
alluxio.master.web.port=$(port)
alluxio.worker.rpc.port=$WP
alluxio.worker.web.port=$(port)
alluxio.worker.tieredstore.level0.dirs.path=$SHM
alluxio.worker.ramdisk.size=3GB
CONF
cleanup() {
  pkill -f "alluxio-bench.*process|$WORK" 2>/dev/null || true
  [[ -n "${PPID_:-}" ]] && kill "$PPID_" 2>/dev/null || true
  [[ -n "${WEED:-}" ]] && kill "$WEED" 2>/dev/null || true
  [[ -n "${MPID:-}" ]] && kill "$MPID" 2>/dev/null || true
  [[ -n "${WPID:-}" ]] && kill "$WPID" 2>/dev/null || true
  for p in "${HAPID[@]:-}"; do [[ -n "$p" ]] && kill -9 "$p" 2>/dev/null || true; done
  sleep 0.3
  rm -rf "$WORK" "$SHM" /dev/shm/alluxio-bench-base-$$ /dev/shm/alluxio-bench-scale-$$
}
trap cleanup EXIT

now() { date +%s%N; }
# best_of <n> <command...>: the shortest wall time in seconds.
best_of() {
  local runs=$1 best="" t0 t1 d i
  shift
  for ((i = 0; i < runs; i++)); do
    t0=$(now); "$@" >/dev/null; t1=$(now)
    d=$(( t1 - t0 ))
    if [[ -z "$best" || $d -lt $best ]]; then best=$d; fi
  done
  python3 -c "print($best/1e9)"
}
ratio() { python3 -c "print(f'{$1/$2:.2f}')"; }

start_cluster() {
  $B format >/dev/null
  $B process master >"$WORK/master.log" 2>&1 & MPID=$!
  $B process worker >"$WORK/worker.log" 2>&1 & WPID=$!
  for _ in $(seq 100); do $B fsadmin report 2>/dev/null | grep -q "Live Workers: 1" && return; sleep 0.1; done
  echo "cluster did not start" >&2; exit 1
}

echo "# alluxio-rs benchmarks, $(date -u +%Y-%m-%d), $(nproc) cores, $(uname -r)"

if [[ " $WANT " == *" metadata "* ]]; then
  start_cluster
  echo; echo "## Metadata (16 concurrent clients, one connection each)"
  $B bench metadata --clients 16 --seconds 5
  kill "$MPID" "$WPID"; wait "$MPID" "$WPID" 2>/dev/null || true
fi

if [[ " $WANT " == *" security "* ]]; then
  echo; echo "## Permission checks and the audit log (16 clients as a non-superuser, paths 10 levels deep)"
  # One master per run, the same metadata benchmark each time; runs alternate between the two
  # settings compared, twice each, and the better run of each counts.
  sec_run() {
    rm -rf "$WORK/journal" "$WORK/underFSStorage" "$WORK/logs"
    $B format >/dev/null
    $B "$@" process master >"$WORK/master-sec.log" 2>&1 & MPID=$!
    until $B fs ls / >/dev/null 2>&1; do sleep 0.1; done
    $B fs mkdir /deep >/dev/null
    $B fs chmod 777 /deep >/dev/null
    $B -Dalluxio.security.login.username=bench bench metadata --clients 16 --seconds 5 \
      --dir /deep/l2/l3/l4/l5/l6/l7/l8/l9/l10
    kill "$MPID"; wait "$MPID" 2>/dev/null || true
  }
  ops() { sed -n "s/^$1 [^0-9]*\([0-9][0-9]*\).*/\1/p"; }
  best() { local op=$1; shift; for r in "$@"; do ops "$op" <<<"$r"; done | sort -n | tail -1; }
  compare() { # compare <label a> <label b> <-D for a> <-D for b>
    local a1 b1 a2 b2 op a b
    a1=$(sec_run "$3"); b1=$(sec_run "$4"); a2=$(sec_run "$3"); b2=$(sec_run "$4")
    for op in getStatus create+complete; do
      a=$(best "$op" "$a1" "$a2"); b=$(best "$op" "$b1" "$b2")
      printf '%-16s %-10s %8s ops/s, %-10s %8s ops/s: %sx\n' "$op" "$1" "$a" "$2" "$b" "$(ratio "$a" "$b")"
    done
  }
  compare "checks on" "checks off" -Dalluxio.security.authorization.permission.enabled=true \
    -Dalluxio.security.authorization.permission.enabled=false
  compare "audit on" "audit off" -Dalluxio.master.audit.logging.enabled=true \
    -Dalluxio.master.audit.logging.enabled=false
fi

if [[ " $WANT " == *" tls "* ]]; then
  echo; echo "## TLS on every port (issue 15): remote read of a cached 1 GiB file over the data port"
  # A test CA and one certificate for localhost, made with openssl.
  T=$WORK/tls; mkdir -p "$T"
  EC=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
  openssl req -x509 "${EC[@]}" -keyout "$T/ca.key" -out "$T/ca.pem" -days 1 -subj /CN=bench-ca 2>/dev/null
  openssl req "${EC[@]}" -keyout "$T/node.key" -out "$T/node.csr" -subj /CN=localhost 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n' >"$T/ext"
  openssl x509 -req -in "$T/node.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial -out "$T/node.pem" \
    -days 1 -extfile "$T/ext" 2>/dev/null
  chmod 600 "$T/node.key"
  TLS=(-Dalluxio.network.tls.enabled=true "-Dalluxio.network.tls.ca.file=$T/ca.pem"
    "-Dalluxio.network.tls.cert.file=$T/node.pem" "-Dalluxio.network.tls.key.file=$T/node.key")
  SRC=$WORK/src.bin
  [[ -f "$SRC" ]] || head -c $((1 << 30)) /dev/urandom >"$SRC"
  gibs() { sed -n 's/.* = \([0-9.]*\) GiB\/s$/\1/p' | head -1; }
  declare -A RR
  # A fresh cluster per run, alternating plaintext and TLS twice; the best run of each counts.
  for round in 1 2; do
    for mode in plaintext TLS; do
      opts=(); [[ $mode == TLS ]] && opts=("${TLS[@]}")
      rm -rf "$WORK/journal" "$WORK/underFSStorage"
      $B format >/dev/null
      $B "${opts[@]}" process master >"$WORK/master-tls.log" 2>&1 & MPID=$!
      $B "${opts[@]}" process worker >"$WORK/worker-tls.log" 2>&1 & WPID=$!
      until $B "${opts[@]}" fsadmin report 2>/dev/null | grep -q "Live Workers: 1"; do sleep 0.1; done
      $B "${opts[@]}" fs -Dalluxio.user.file.writetype.default=MUST_CACHE copyFromLocal "$SRC" /big >/dev/null
      r=$($B "${opts[@]}" bench read --path /big --runs 5 --remote | gibs)
      echo "round $round, $mode: remote read $r GiB/s"
      RR[$mode]=$(python3 -c "print(max(${RR[$mode]:-0}, $r))")
      kill "$MPID" "$WPID"; wait "$MPID" "$WPID" 2>/dev/null || true
    done
  done
  echo "remote read, TLS / plaintext: ${RR[TLS]} / ${RR[plaintext]} GiB/s = $(ratio "${RR[TLS]}" "${RR[plaintext]}")x"
fi

if [[ " $WANT " == *" data "* ]]; then
  start_cluster
  echo; echo "## Data (1 GiB file)"
  SRC=$WORK/src.bin
  head -c $((1 << 30)) /dev/urandom >"$SRC"
  sync                    # no writeback of the source during the timed copies
  cat "$SRC" >/dev/null   # page-cache the source for both sides
  BASE=/dev/shm/alluxio-bench-base-$$
  cp_tmpfs() { rm -f "$BASE"; cp "$SRC" "$BASE"; }
  copy_in() { $B fs rm /big >/dev/null 2>&1 || true; $B fs -Dalluxio.user.file.writetype.default=MUST_CACHE copyFromLocal "$SRC" /big; }
  # Interleaved, best of 5 each, so both sides see the same machine.
  t_cp=9; t_in=9
  for _ in 1 2 3 4 5; do
    t=$(best_of 1 cp_tmpfs); t_cp=$(python3 -c "print(min($t, $t_cp))")
    t=$(best_of 1 copy_in); t_in=$(python3 -c "print(min($t, $t_in))")
  done
  rm -f "$BASE"; cp "$SRC" "$BASE"
  t_cat=$(best_of 5 cat "$BASE")
  t_fs=$(best_of 5 $B fs cat /big)
  printf '%-58s %10s %10s\n' "operation" "seconds" "GiB/s"
  printf '%-58s %10.3f %10.2f\n' "cp 1 GiB into tmpfs (baseline)" "$t_cp" "$(python3 -c "print(1/$t_cp)")"
  printf '%-58s %10.3f %10.2f   %sx of baseline\n' "fs copyFromLocal MUST_CACHE 1 GiB" "$t_in" "$(python3 -c "print(1/$t_in)")" "$(ratio "$t_cp" "$t_in")"
  printf '%-58s %10.3f %10.2f\n' "cat 1 GiB from tmpfs to /dev/null (baseline)" "$t_cat" "$(python3 -c "print(1/$t_cat)")"
  printf '%-58s %10.3f %10.2f   %sx of baseline\n' "fs cat of the cached 1 GiB file to /dev/null" "$t_fs" "$(python3 -c "print(1/$t_fs)")" "$(ratio "$t_cat" "$t_fs")"
  # Worker cache persistence (alluxio-stop.sh -c / alluxio-start.sh -c) against cp -r.
  kill "$WPID"; wait "$WPID" 2>/dev/null || true
  CACHE=$WORK/cache; PLAIN=$WORK/plain
  cp_out() { rm -rf "$PLAIN"; sync; cp -r "$SHM/alluxioworker" "$PLAIN"; }
  save() { rm -rf "$CACHE"; sync; $B cache save "$CACHE"; }
  cp_back() { rm -rf "$SHM/copy"; cp -r "$PLAIN" "$SHM/copy"; }
  restore() { $B cache restore "$CACHE"; }
  t_cpo=$(best_of 3 cp_out); t_save=$(best_of 3 save)
  t_cpb=$(best_of 3 cp_back); rm -rf "$SHM/copy"; t_rest=$(best_of 3 restore)
  printf '%-58s %10.3f %10.2f\n' "cp -r of the 1 GiB MEM tier to disk (baseline)" "$t_cpo" "$(python3 -c "print(1/$t_cpo)")"
  printf '%-58s %10.3f %10.2f   %sx of baseline\n' "cache save (alluxio-stop.sh -c), checksummed" "$t_save" "$(python3 -c "print(1/$t_save)")" "$(ratio "$t_cpo" "$t_save")"
  printf '%-58s %10.3f %10.2f\n' "cp -r of the saved cache back into tmpfs (baseline)" "$t_cpb" "$(python3 -c "print(1/$t_cpb)")"
  printf '%-58s %10.3f %10.2f   %sx of baseline\n' "cache restore (alluxio-start.sh -c), verified" "$t_rest" "$(python3 -c "print(1/$t_rest)")" "$(ratio "$t_cpb" "$t_rest")"
  kill "$MPID"; wait "$MPID" 2>/dev/null || true
fi

if [[ " $WANT " == *" startup "* ]]; then
  echo; echo "## Start-up (checkpoint of 1,000,000 files + 100,000 later log entries)"
  J=$WORK/bigjournal
  $B bench replay --journal "$J" --files 1000000 --log-entries 100000
  mkdir -p "${TMPDIR:-/tmp}/alluxio-bench-ufs"
  t0=$(now)
  $B -Dalluxio.master.journal.folder="$J" process master >"$WORK/master-big.log" 2>&1 & MPID=$!
  until $B fs stat /d999/f999 >/dev/null 2>&1; do
    kill -0 "$MPID" 2>/dev/null || { cat "$WORK/master-big.log"; exit 1; }
    sleep 0.02
  done
  t1=$(now)
  echo "master process start to first answered RPC: $(python3 -c "print(($t1-$t0)/1e9)") s"
  t0=$(now); out=$($B fsadmin backup "$WORK/bk" --local); t1=$(now)
  n=$(echo "$out" | sed -n 's/^Backup Entry Count : //p')
  echo "fsadmin backup of the running master: $n entries in $(python3 -c "print(($t1-$t0)/1e9)") s = $(python3 -c "print(int($n/(($t1-$t0)/1e9)))") entries/s"
  kill "$MPID"; wait "$MPID" 2>/dev/null || true
  BK=$(ls "$WORK"/bk/alluxio-backup-*.gz)
  R=$WORK/restored; $B -Dalluxio.master.journal.folder="$R" formatJournal >/dev/null
  t0=$(now)
  $B -Dalluxio.master.journal.folder="$R" -Dalluxio.master.journal.init.from.backup="$BK" process master >"$WORK/master-restore.log" 2>&1 & MPID=$!
  until $B fs stat /d999/f999 >/dev/null 2>&1; do
    kill -0 "$MPID" 2>/dev/null || { cat "$WORK/master-restore.log"; exit 1; }
    sleep 0.02
  done
  t1=$(now)
  echo "alluxio-start.sh -i: $n entries restored and serving in $(python3 -c "print(($t1-$t0)/1e9)") s = $(python3 -c "print(int($n/(($t1-$t0)/1e9)))") entries/s"
  grep -o "Restored .*" "$WORK/master-restore.log" || true
  kill "$MPID"; wait "$MPID" 2>/dev/null || true
fi

if [[ " $WANT " == *" cache "* ]]; then
  start_cluster
  echo; echo "## Data plane (issue 4)"
  SRC=$WORK/src.bin
  [[ -f "$SRC" ]] || head -c $((1 << 30)) /dev/urandom >"$SRC"
  BASE=/dev/shm/alluxio-bench-base-$$
  cp "$SRC" "$BASE"
  $B fs -Dalluxio.user.file.writetype.default=MUST_CACHE copyFromLocal "$SRC" /big >/dev/null
  echo; echo "### Short-circuit read of a cached 1 GiB file (best of 5)"
  $B bench read --path /big --runs 5 --baseline "$BASE"
  rm -f "$BASE"
  echo; echo "### Remote read of a cached 1 GiB file over the data port (best of 5)"
  $B bench read --path /big --runs 5 --remote
  $B fs rm /big >/dev/null
  echo; echo "### 8 clients reading 8 different cached 256 MiB files (best of 5)"
  head -c $((256 << 20)) "$SRC" >"$WORK/part"
  for i in 0 1 2 3 4 5 6 7; do
    $B fs -Dalluxio.user.file.writetype.default=MUST_CACHE copyFromLocal "$WORK/part" /part.$i >/dev/null
  done
  echo "short-circuit, each chunk copied into the application's buffer:"; $B bench read --path /part --clients 8 --runs 5 --copy
  echo "short-circuit, zero-copy (the application uses the mapped chunks):"; $B bench read --path /part --clients 8 --runs 5
  echo "remote (data port):"; $B bench read --path /part --clients 8 --runs 5 --remote
  for i in 0 1 2 3 4 5 6 7; do $B fs rm /part.$i >/dev/null; done
  echo; echo "### Cold read from the UFS (local disk, page cache dropped) and the same read warm"
  cp "$SRC" "$WORK/underFSStorage/cold"; sync
  if echo 3 >/proc/sys/vm/drop_caches 2>/dev/null; then
    t_cold=$(best_of 1 $B fs cat /cold)
    until $B fs ls /cold | grep -q "100%"; do sleep 0.1; done
    t_warm=$(best_of 5 $B fs cat /cold)
    printf '%-58s %10.3f %10.2f\n' "fs cat, cold (UFS on disk, page cache dropped)" "$t_cold" "$(python3 -c "print(1/$t_cold)")"
    printf '%-58s %10.3f %10.2f   %sx faster\n' "fs cat, warm (cached in MEM)" "$t_warm" "$(python3 -c "print(1/$t_warm)")" "$(ratio "$t_cold" "$t_warm")"
  else
    echo "(skipped: dropping the page cache needs root)"
  fi
  kill "$MPID" "$WPID"; wait "$MPID" "$WPID" 2>/dev/null || true
  echo; echo "### Eviction: Zipf trace over a working set 2x the cache, against ideal LRU"
  $B bench eviction --blocks 1000 --accesses 50000 --dir "$WORK/evict"
  echo; echo "### Worker restart with 100,000 cached blocks"
  J=$WORK/scalejournal; T=/dev/shm/alluxio-bench-scale-$$
  $B bench worker-scale --journal "$J" --tier "$T" --blocks 100000
  $B -Dalluxio.master.journal.folder="$J" process master >"$WORK/master-scale.log" 2>&1 & MPID=$!
  until $B fs stat /d0/f0 >/dev/null 2>&1; do sleep 0.05; done
  # A getStatus loop measures what the registration costs the master's other clients.
  ( worst=0; while [[ ! -f "$WORK/stop-probe" ]]; do
      t0=$(now); $B fs stat /d0/f0 >/dev/null; t1=$(now); d=$(( (t1 - t0) / 1000000 ))
      (( d > worst )) && worst=$d; echo $worst >"$WORK/probe-worst"
    done ) &
  PROBE=$!
  sleep 1; base_worst=$(cat "$WORK/probe-worst")
  t0=$(now)
  $B -Dalluxio.worker.tieredstore.level0.dirs.path="$T" -Dalluxio.worker.ramdisk.size=1GB process worker >"$WORK/worker-scale.log" 2>&1 & WPID=$!
  until grep -q "registered with the master" "$WORK/worker-scale.log"; do
    kill -0 "$WPID" 2>/dev/null || { cat "$WORK/worker-scale.log"; exit 1; }
    sleep 0.02
  done
  t1=$(now)
  until $B fs ls /d99/f999 | grep -q "100%"; do sleep 0.02; done
  $B fs cat /d99/f999 >/dev/null
  t2=$(now)
  touch "$WORK/stop-probe"; wait "$PROBE" 2>/dev/null || true
  echo "worker process start to registered: $(python3 -c "print(($t1-$t0)/1e9)") s; to serving a cached block: $(python3 -c "print(($t2-$t0)/1e9)") s"
  grep -o "100000 blocks.*found.*\|: 100000 blocks, .*" "$WORK/worker-scale.log" || true
  echo "slowest fs stat (whole CLI process) before the worker started: ${base_worst} ms; while it registered: $(cat "$WORK/probe-worst") ms"
  kill "$MPID" "$WPID"; wait "$MPID" "$WPID" 2>/dev/null || true
  rm -rf "$T"
fi

if [[ " $WANT " == *" checksums "* ]]; then
  start_cluster
  echo; echo "## Block checksums (issue 13): cached reads verifying (ONCE, the default) against not (NEVER)"
  SRC=$WORK/src.bin
  [[ -f "$SRC" ]] || head -c $((1 << 30)) /dev/urandom >"$SRC"
  $B fs -Dalluxio.user.file.writetype.default=MUST_CACHE copyFromLocal "$SRC" /big >/dev/null
  gibs() { sed -n 's/.* = \([0-9.]*\) GiB\/s$/\1/p' | head -1; }
  declare -A SC RE
  # The worker restarts in each mode, twice, interleaved; the best of each mode counts.
  for round in 1 2; do
    for mode in ONCE NEVER; do
      kill "$WPID"; wait "$WPID" 2>/dev/null || true
      $B -Dalluxio.worker.block.checksum.verify=$mode process worker >>"$WORK/worker.log" 2>&1 & WPID=$!
      until $B fs ls /big 2>/dev/null | grep -q "100%"; do sleep 0.1; done
      sc=$($B bench read --path /big --runs 5 | gibs)
      re=$($B bench read --path /big --runs 5 --remote | gibs)
      echo "round $round, $mode: short-circuit $sc GiB/s, remote $re GiB/s"
      SC[$mode]=$(python3 -c "print(max(${SC[$mode]:-0}, $sc))")
      RE[$mode]=$(python3 -c "print(max(${RE[$mode]:-0}, $re))")
    done
  done
  echo "short-circuit read, checksums ONCE / NEVER: ${SC[ONCE]} / ${SC[NEVER]} GiB/s = $(ratio "${SC[ONCE]}" "${SC[NEVER]}")x"
  echo "remote read (every read verified), ONCE / NEVER: ${RE[ONCE]} / ${RE[NEVER]} GiB/s = $(ratio "${RE[ONCE]}" "${RE[NEVER]}")x"
  kill "$MPID" "$WPID"; wait "$MPID" "$WPID" 2>/dev/null || true
fi

if [[ " $WANT " == *" s3 "* ]]; then
  PP=$(port)
  echo "alluxio.proxy.web.port=$PP" >>"$WORK/conf/alluxio-site.properties"
  start_cluster
  $B process proxy >"$WORK/proxy.log" 2>&1 & PPID_=$!
  # SeaweedFS as the S3 server behind a mount, on free ports.
  WD=$WORK/weed; mkdir -p "$WD"; S3P=$(port)
  AWS_ACCESS_KEY_ID=benchkey AWS_SECRET_ACCESS_KEY=benchsecret weed mini -dir="$WD" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
    -master.telemetry=false -admin.ui=false -webdav=false -s3.port.iceberg=0 -s3.port.lance=0 -s3.port="$S3P" \
    -s3.port.grpc="$(port)" -master.port="$(port)" -master.port.grpc="$(port)" -filer.port="$(port)" \
    -filer.port.grpc="$(port)" -volume.port="$(port)" -volume.port.grpc="$(port)" -admin.port="$(port)" \
    -admin.port.grpc="$(port)" -bucket=benchufs >"$WORK/weed.log" 2>&1 & WEED=$!
  export AWS_ACCESS_KEY_ID=benchkey AWS_SECRET_ACCESS_KEY=benchsecret AWS_DEFAULT_REGION=us-east-1
  export AWS_REQUEST_CHECKSUM_CALCULATION=when_required AWS_RESPONSE_CHECKSUM_VALIDATION=when_required
  for _ in $(seq 300); do aws --endpoint-url "http://127.0.0.1:$S3P" s3 ls 2>/dev/null | grep -q benchufs && break; sleep 0.2; done
  for _ in $(seq 100); do curl -s "http://127.0.0.1:$PP/api/v1/proxy/info" >/dev/null && break; sleep 0.1; done
  echo; echo "## S3 (issue 6)"
  SRC=$WORK/src.bin
  [[ -f "$SRC" ]] || head -c $((1 << 30)) /dev/urandom >"$SRC"
  $B fs mkdir /bkt >/dev/null
  $B fs -Dalluxio.user.file.writetype.default=MUST_CACHE copyFromLocal "$SRC" /bkt/big >/dev/null
  get_s3() { curl -sf -o /dev/null "http://127.0.0.1:$PP/api/v1/s3/bkt/big"; }
  # fs cat to /dev/null never touches the mapped pages; piped into a reader, the bytes reach a
  # process as curl's do.
  cat_pipe() { $B fs cat /bkt/big | cat >/dev/null; }
  t_cat=$(best_of 5 $B fs cat /bkt/big); t_catp=$(best_of 5 cat_pipe); t_get=$(best_of 5 get_s3)
  printf '%-58s %10s %10s\n' "operation" "seconds" "GiB/s"
  printf '%-58s %10.3f %10.2f\n' "fs cat of a cached 1 GiB file to /dev/null" "$t_cat" "$(python3 -c "print(1/$t_cat)")"
  printf '%-58s %10.3f %10.2f\n' "fs cat of the same file piped into a reader" "$t_catp" "$(python3 -c "print(1/$t_catp)")"
  printf '%-58s %10.3f %10.2f   %sx of fs cat, %sx of fs cat | reader\n' "GET of the same object through the S3 API (curl)" "$t_get" "$(python3 -c "print(1/$t_get)")" "$(ratio "$t_cat" "$t_get")" "$(ratio "$t_catp" "$t_get")"
  $B fs rm /bkt/big >/dev/null
  # A 1 GiB object in the S3 server, read through a mount: cold, then warm.
  aws --endpoint-url "http://127.0.0.1:$S3P" s3 cp "$SRC" s3://benchufs/data/big >/dev/null
  direct() { curl -sf -o /dev/null --aws-sigv4 "aws:amz:us-east-1:s3" --user benchkey:benchsecret "http://127.0.0.1:$S3P/benchufs/data/big"; }
  t_direct=$(best_of 3 direct)
  $B fs mount --option s3a.accessKeyId=benchkey --option s3a.secretKey=benchsecret \
    --option alluxio.underfs.s3.endpoint="http://127.0.0.1:$S3P" /s3 s3://benchufs/data >/dev/null
  t_cold=$(best_of 1 $B fs cat /s3/big)
  until $B fs ls /s3/big | grep -q "100%"; do sleep 0.1; done
  t_warm=$(best_of 5 $B fs cat /s3/big)
  printf '%-58s %10.3f %10.2f\n' "GET of the 1 GiB object from SeaweedFS directly (curl)" "$t_direct" "$(python3 -c "print(1/$t_direct)")"
  printf '%-58s %10.3f %10.2f\n' "fs cat under the S3 mount, cold (reads through, caches)" "$t_cold" "$(python3 -c "print(1/$t_cold)")"
  printf '%-58s %10.3f %10.2f   %sx faster than cold\n' "fs cat under the S3 mount, warm" "$t_warm" "$(python3 -c "print(1/$t_warm)")" "$(ratio "$t_cold" "$t_warm")"
  echo; echo "### 1,000 PUTs then 1,000 GETs of 4 KiB objects (boto3, one client)"
  echo "through the Alluxio proxy:"; python3 tests/clients/s3_small_ops.py "http://127.0.0.1:$PP/api/v1/s3" any any small 1000
  echo "SeaweedFS directly:"; python3 tests/clients/s3_small_ops.py "http://127.0.0.1:$S3P" benchkey benchsecret small 1000
  kill "$PPID_" "$WEED" "$MPID" "$WPID" 2>/dev/null; wait "$PPID_" "$WEED" "$MPID" "$WPID" 2>/dev/null || true
fi

if [[ " $WANT " == *" ha "* ]]; then
  echo; echo "## High availability (embedded journal, masters on this host)"
  # Journaled creates: one master (UFS journal, then EMBEDDED) and three EMBEDDED masters.
  creates() { $B bench metadata --clients 16 --seconds 5 "$@" | sed -n 's/^create+complete[^0-9]*\([0-9]*\).*/\1/p'; }
  single() {
    rm -rf "$WORK/journal"
    $B -Dalluxio.master.journal.type="$1" format >/dev/null
    $B -Dalluxio.master.journal.type="$1" process master >"$WORK/master-$1.log" 2>&1 & MPID=$!
    until $B fs ls / >/dev/null 2>&1; do sleep 0.1; done
    creates
    kill "$MPID"; wait "$MPID" 2>/dev/null || true
  }
  c_ufs=$(single UFS); c_emb1=$(single EMBEDDED)
  declare -a HAPID HARPC
  JADDR=""; RADDR=""
  for i in 0 1 2; do
    HARPC[$i]=$(port); HAJ[$i]=$(port)
    JADDR+="${JADDR:+,}localhost:${HAJ[$i]}"; RADDR+="${RADDR:+,}localhost:${HARPC[$i]}"
  done
  ha_start() {
    $B -Dalluxio.master.journal.type=EMBEDDED -Dalluxio.master.embedded.journal.addresses="$JADDR" \
      -Dalluxio.master.rpc.port="${HARPC[$1]}" -Dalluxio.master.web.port=$(port) \
      -Dalluxio.master.embedded.journal.port="${HAJ[$1]}" -Dalluxio.master.journal.folder="$WORK/ha$1" \
      process master >>"$WORK/ha$1.log" 2>&1 & HAPID[$1]=$!
  }
  for i in 0 1 2; do ha_start $i; done
  HA="-Dalluxio.master.rpc.addresses=$RADDR"
  until $B fs $HA ls / >/dev/null 2>&1; do sleep 0.1; done
  c_ha=$(creates $HA)
  printf '%-58s %10s\n' "journaled creates (16 clients)" "ops/s"
  printf '%-58s %10s\n' "one master, UFS journal" "$c_ufs"
  printf '%-58s %10s   %sx of UFS\n' "one master, EMBEDDED journal (the default)" "$c_emb1" "$(ratio "$c_emb1" "$c_ufs")"
  printf '%-58s %10s   %sx of one EMBEDDED master\n' "three masters, EMBEDDED journal" "$c_ha" "$(ratio "$c_ha" "$c_emb1")"
  # Failover: kill -9 the leader, time until a client's create succeeds; 20 times.
  leader() { $B fs $HA masterInfo | sed -n 's/^Current leader master: .*:\([0-9]*\)$/\1/p'; }
  BN=0
  touch_new() { BN=$((BN + 1)); $B fs $HA touch "/fo-base-$BN-$RANDOM"; }
  base=$(best_of 5 touch_new)
  times=()
  for k in $(seq 1 20); do
    lp=$(leader); li=""
    for i in 0 1 2; do [[ "${HARPC[$i]}" == "$lp" ]] && li=$i; done
    kill -9 "${HAPID[$li]}"; wait "${HAPID[$li]}" 2>/dev/null || true
    t0=$(now); $B fs $HA touch "/fo-$k" >/dev/null; t1=$(now)
    times+=("$(python3 -c "print(($t1-$t0)/1e9)")")
    ha_start "$li"
    # Back to three healthy members before the next kill.
    until $B fsadmin $HA journal quorum info -domain MASTER 2>/dev/null | grep -q "Quorum size" && \
      ! $B fsadmin $HA journal quorum info -domain MASTER | grep -q UNAVAILABLE; do sleep 0.2; done
  done
  python3 - "$base" "${times[@]}" <<'PY'
import statistics, sys
base = float(sys.argv[1]); t = sorted(float(x) for x in sys.argv[2:])
q = lambda p: t[min(len(t) - 1, int(p * len(t)))]
print(f"failover, kill -9 of the leader to the first acknowledged create, {len(t)} kills:")
print(f"  min {t[0]:.2f} s, median {statistics.median(t):.2f} s, p90 {q(0.9):.2f} s, max {t[-1]:.2f} s")
print(f"  (the same create with no failover, baseline: {base:.3f} s; all: {' '.join(f'{x:.2f}' for x in t)})")
PY
  for p in "${HAPID[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true
fi
