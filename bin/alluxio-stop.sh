#!/usr/bin/env bash
#
# Stops Alluxio processes. Same interface as Alluxio's alluxio-stop.sh.

set -uo pipefail
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/alluxio-common.sh"

USAGE="Usage: alluxio-stop.sh [-h] [component] [-c cache] [-s]
Where component is one of:
  all [-c cache]     \tStop all masters, workers and proxies.
  local [-c cache]   \tStop all processes locally.
  master             \tStop local master.
  masters            \tStop masters on master nodes.
  worker [-c cache]  \tStop local worker.
  workers [-c cache] \tStop workers on worker nodes.
  proxy              \tStop the local proxy.
  proxies            \tStop proxies on master and worker nodes.
-c cache   save the worker ramcache(s) from the worker node(s) to the specified directory (relative to each worker node's host filesystem)
-s         processes won't be forcibly killed even if operation is timeout
-h         display this help"

COMPONENT=${1:-}
if [[ -z "$COMPONENT" || "$COMPONENT" == "-h" ]]; then
  echo -e "$USAGE"
  exit 0
fi
shift
CACHE=""
SOFT=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    -c) CACHE=${2:-}; shift
        if [[ -z "$CACHE" ]]; then echo "Error: -c needs a directory" >&2; exit 1; fi ;;
    -s) SOFT=1 ;;
    *) echo "Error: Invalid argument: $1" >&2; echo -e "$USAGE" >&2; exit 1 ;;
  esac
  shift
done
case "$COMPONENT" in
  all|local|master|masters|worker|workers|proxy|proxies) ;;
  *) echo "Error: Invalid component: $COMPONENT" >&2; echo -e "$USAGE" >&2; exit 1 ;;
esac

TIMEOUT=${ALLUXIO_STOP_TIMEOUT:-120}
KILLED=0
FAILED=0

# stop_process <name>: SIGTERM, wait, then SIGKILL unless -s.
stop_process() {
  local name=$1 logs pidf pid i
  logs=$(logs_dir)
  pidf=$logs/$name.pid
  if ! pid_alive "$pidf"; then
    rm -f "$pidf"
    return 0
  fi
  pid=$(cat "$pidf")
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < TIMEOUT * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    if [[ -n "$SOFT" ]]; then
      echo "Process [$pid] did not complete after $TIMEOUT seconds, failing to kill it." >&2
      FAILED=$((FAILED + 1))
      return 0
    fi
    echo "Process [$pid] did not complete after $TIMEOUT seconds, forcibly killing it." >&2
    kill -9 "$pid" 2>/dev/null
  fi
  rm -f "$pidf"
  KILLED=$((KILLED + 1))
}

# Stops every worker of this host, then (with -c) saves their ramdisks: after the stop, so the
# copy is consistent.
stop_worker() {
  local logs f name opts
  logs=$(logs_dir)
  local names=()
  for f in "$logs"/worker.pid "$logs"/worker-*.pid; do
    [[ -f "$f" ]] && names+=("$(basename "$f" .pid)")
  done
  [[ ${#names[@]} -eq 0 ]] && names=(worker)
  if [[ -n "$CACHE" ]]; then
    rm -rf "${CACHE:?}"
    mkdir -p "$CACHE" || { echo "Error: cannot create $CACHE" >&2; exit 2; }
  fi
  for name in "${names[@]}"; do
    stop_process "$name"
    if [[ -n "$CACHE" ]]; then
      opts=()
      [[ -f "$logs/$name.opts" ]] && mapfile -t opts < <(grep -v '^$' "$logs/$name.opts")
      "$ALLUXIO" "${opts[@]}" cache save "$CACHE" || exit 2
    fi
  done
}

# Stops every master of this host (several when conf/masters gives one host several lines).
stop_masters() {
  local logs f found=""
  logs=$(logs_dir)
  for f in "$logs"/master.pid "$logs"/master-*.pid; do
    [[ -f "$f" ]] || continue
    found=1
    stop_process "$(basename "$f" .pid)"
  done
  [[ -z "$found" ]] && stop_process master
  return 0
}

on_hosts() {
  local file=$1 action=$2 rc=0 h done_local=""
  local args=("$action")
  [[ -n "$CACHE" && "$action" == "worker" ]] && args+=(-c "$CACHE")
  [[ -n "$SOFT" ]] && args+=(-s)
  for h in $(hosts_of "$file"); do
    if is_local_host "$h"; then
      [[ -n "$done_local" ]] && continue
      done_local=1
    fi
    run_on "$h" "$BIN_DIR/alluxio-stop.sh" "${args[@]}" || rc=$?
  done
  return $rc
}

report() {
  if [[ $KILLED -gt 0 ]]; then
    echo "Successfully Killed $KILLED process(es) successfully on $(local_hostname)"
  fi
  if [[ $FAILED -gt 0 ]]; then
    echo "Soft kill option -s specified, failed to kill $FAILED process(es) on $(local_hostname)"
  fi
}

case "$COMPONENT" in
  master) stop_masters; report ;;
  worker) stop_worker; report ;;
  local) stop_worker; stop_masters; report ;;
  masters) on_hosts masters master ;;
  workers) on_hosts workers worker ;;
  all) on_hosts masters proxy; on_hosts workers proxy; on_hosts workers worker; on_hosts masters master ;;
  proxy) stop_process proxy; report ;;
  proxies) on_hosts masters proxy; on_hosts workers proxy ;;
esac
