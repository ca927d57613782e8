#!/usr/bin/env bash
#
# Starts Alluxio processes. Same interface as Alluxio's alluxio-start.sh.

set -uo pipefail
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/alluxio-common.sh"

USAGE="Usage: alluxio-start.sh [-hNwa] [-i backup] ACTION [MOPT] [-f] [-c cache]
Where ACTION is one of:
  all [MOPT] [-c cache]     \tStart all masters, workers and proxies.
  local [MOPT] [-c cache]   \tStart a master and a worker locally.
  master                    \tStart the local master on this node.
  masters                   \tStart masters on master nodes.
  worker [MOPT] [-c cache]  \tStart a worker on this node.
  workers [MOPT] [-c cache] \tStart workers on worker nodes.
  proxy                     \tStart the proxy (REST and S3 APIs) on this node.
  proxies                   \tStart proxies on master and worker nodes.
MOPT (Mount Option) is one of:
  Mount    \tMount the configured RamFS if it is not already mounted.
  SudoMount\tMount the configured RamFS using sudo if it is not already mounted.
  NoMount  \tDo not mount the configured RamFS (the tier directory must already be a tmpfs/ramfs).
  Notice: NoMount is assumed if MOPT is not specified.
-a         asynchronously start processes without waiting for them to serve
-c cache   populate the worker ramcache(s) from the given directory (saved by alluxio-stop.sh -c)
-f         format journal and worker storage before starting
-h         display this help
-i backup  a journal backup to restore the master from (into a freshly formatted journal)
-N         accepted for compatibility: a process that is already running is never started twice
-w         wait for processes to be serving (the default; see -a)"

ASYNC=""
FORMAT=""
BACKUP=""
CACHE=""
while getopts ":hNwai:" o; do
  case "$o" in
    h) echo -e "$USAGE"; exit 0 ;;
    N|w) ;;
    a) ASYNC=1 ;;
    i) BACKUP=$OPTARG ;;
    *) echo -e "$USAGE" >&2; exit 1 ;;
  esac
done
shift $((OPTIND - 1))

ACTION=${1:-}
if [[ -z "$ACTION" ]]; then
  echo "Error: no ACTION specified" >&2
  echo -e "$USAGE" >&2
  exit 1
fi
shift
MOPT=""
WORKER_OPTS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    Mount|SudoMount|NoMount) MOPT=$1 ;;
    -D*=*) WORKER_OPTS+=("$1") ;;
    -f) FORMAT=1 ;;
    -c) CACHE=${2:-}; shift
        if [[ -z "$CACHE" ]]; then echo "Error: -c needs a directory" >&2; exit 1; fi ;;
    -a) ASYNC=1 ;;
    -i) BACKUP=${2:-}; shift ;;
    *) echo "Error: Invalid argument: $1" >&2; echo -e "$USAGE" >&2; exit 1 ;;
  esac
  shift
done

case "$ACTION" in
  all|local|master|masters|worker|workers|proxy|proxies) ;;
  *) echo "Error: Invalid ACTION: $ACTION" >&2; echo -e "$USAGE" >&2; exit 1 ;;
esac
if [[ -z "$MOPT" && "$ACTION" =~ ^(all|local|worker|workers)$ ]]; then
  if [[ -n "$FORMAT" ]]; then MOPT=SudoMount; echo "Assuming SudoMount given -f option."; else MOPT=NoMount; echo "Assuming NoMount by default."; fi
fi

# Builds the binary if needed (in the foreground, so the user sees it) and checks the configuration.
if ! "$ALLUXIO" validateConf >/dev/null; then
  exit 1
fi

wait_for_port() {
  # wait_for_port <name> <pid> <port> <log>
  local name=$1 pid=$2 port=$3 log=$4 i
  for ((i = 0; i < 600; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo -e "--- [ FAILED ] The $name @ $(local_hostname) is not serving requests; it exited. Last log lines ($log):" >&2
      tail -n 20 "$log" >&2
      return 1
    fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "--- [ OK ] The $name service @ $(local_hostname) is in a healthy state."
      return 0
    fi
    sleep 0.1
  done
  echo "--- [ FAILED ] The $name @ $(local_hostname) is not serving requests after 60 s; see $log" >&2
  return 1
}

# Whether the root mount is a local directory that does not exist yet (nothing was ever stored).
new_local_root_ufs() {
  local root
  root=$(worker_conf alluxio.master.mount.table.root.ufs)
  root=${root#file://}
  [[ "$root" != *://* && ! -e "$root" ]]
}

start_master() {
  local logs pidf log name=master
  logs=$(logs_dir)
  # A master with its own options (a conf/masters line "host -D..."; HA on one host) is named
  # after its RPC port: several can share a host.
  if [[ ${#WORKER_OPTS[@]} -gt 0 ]]; then
    name=master-$(worker_conf alluxio.master.rpc.port)
  fi
  pidf=$logs/$name.pid
  log=$logs/$name.log
  if pid_alive "$pidf"; then
    echo "Master is already running @ $(local_hostname) (pid $(cat "$pidf")); not starting another."
    return 0
  fi
  if [[ -n "$FORMAT" ]]; then
    "$ALLUXIO" "${WORKER_OPTS[@]}" formatJournal || return 1
  elif [[ "$(worker_conf alluxio.master.journal.type)" != "NOOP" ]]; then
    local folder
    folder=$(worker_conf alluxio.master.journal.folder)
    if [[ -f "$folder" ]]; then
      echo "Journal location $folder is a file not a directory. Please remove the file before retrying." >&2
      return 1
    fi
    # A missing journal is a wrong path or a lost disk as often as a new install, so only the
    # first start of a brand-new setup (the root UFS a local directory that does not exist yet,
    # which the first master start creates: the rule of `alluxio format -s`) formats it.
    # Otherwise the master refuses to start and says to run `alluxio format`.
    if [[ ! -e "$folder" ]] && new_local_root_ufs; then
      echo "Journal folder $folder and the root under storage do not exist yet: formatting a new journal."
      "$ALLUXIO" "${WORKER_OPTS[@]}" formatJournal >/dev/null || return 1
    fi
  fi
  local extra=("${WORKER_OPTS[@]}")
  if [[ -n "$BACKUP" ]]; then
    extra+=("-Dalluxio.master.journal.init.from.backup=$BACKUP")
  fi
  echo "Starting master @ $(local_hostname). Logging to $logs"
  nohup "$ALLUXIO" "${extra[@]}" process master >>"$log" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$pidf"
  if [[ -z "$ASYNC" ]]; then
    if [[ -n "$BACKUP" ]]; then
      wait_for_restore "$pid" "$log" || return 1
    fi
    wait_for_port master "$pid" "$(worker_conf alluxio.master.rpc.port)" "$log" || return 1
  fi
}

# A master restoring a backup (-i) opens its port before the restore is over: "[ OK ]" only once
# the backup was applied (or found not to apply), "[ FAILED ]" when the master exits instead.
wait_for_restore() {
  local pid=$1 log=$2 i
  for ((i = 0; i < 6000; i++)); do
    if grep -qE "Restored [0-9]+ entries from backup|so the backup .* was not applied" "$log" 2>/dev/null; then
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo -e "--- [ FAILED ] The master @ $(local_hostname) exited while restoring $BACKUP. Last log lines ($log):" >&2
      tail -n 20 "$log" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "--- [ FAILED ] The master @ $(local_hostname) did not finish restoring $BACKUP in 10 minutes; see $log" >&2
  return 1
}

# Configuration of the worker or master being started (with its own -D options).
worker_conf() {
  "$ALLUXIO" "${WORKER_OPTS[@]}" getConf "$1"
}

# The level-0 directories of a MEM tier (where ramdisks live).
mem_dirs() {
  local alias paths
  alias=$(worker_conf alluxio.worker.tieredstore.level0.alias)
  alias=${alias:-MEM}
  [[ "${alias^^}" == "MEM" ]] || return 0
  paths=$(worker_conf alluxio.worker.tieredstore.level0.dirs.path)
  paths=${paths:-/dev/shm}
  echo "$paths" | tr ',' '\n' | sed 's/^[[:space:]]*//;s/[[:space:]]*$//' | grep -v '^$'
}

fs_type() {
  local p=$1
  while [[ ! -e "$p" && "$p" != "/" ]]; do p=$(dirname "$p"); done
  stat -f -c %T "$p" 2>/dev/null
}

prepare_ramdisk() {
  local d t size
  for d in $(mem_dirs); do
    t=$(fs_type "$d")
    case "$MOPT" in
      NoMount)
        if [[ "$t" != "tmpfs" && "$t" != "ramfs" ]]; then
          echo "ERROR: Ramdisk $d is not mounted with mount option NoMount. Use alluxio-start.sh worker Mount|SudoMount to mount ramdisk." >&2
          return 1
        fi
        if [[ "$t" == "tmpfs" ]]; then
          echo "WARNING: Using tmpFS does not guarantee data to be stored in memory."
          echo "WARNING: Check vmstat for memory statistics (e.g. swapping)."
        fi
        ;;
      Mount|SudoMount)
        if mountpoint -q "$d" 2>/dev/null && [[ "$t" == "ramfs" || "$t" == "tmpfs" ]]; then
          echo "Ramdisk $d already mounted. Skipping mounting procedure."
          continue
        fi
        echo "Ramdisk $d not detected. Mounting..."
        size=$(worker_conf alluxio.worker.ramdisk.size)
        size=${size:-1GB}
        local sudo=""
        [[ "$MOPT" == "SudoMount" && "$(id -u)" != "0" ]] && sudo=sudo
        $sudo mkdir -p "$d" && $sudo mount -t ramfs -o "size=$size" ramfs "$d" && $sudo chmod a+w "$d" || {
          echo "ERROR: cannot mount a ramfs at $d" >&2
          return 1
        }
        ;;
    esac
  done
}

restore_cache() {
  if [[ ! -d "$CACHE" ]]; then
    echo "Error: cache path $CACHE is not a directory" >&2
    exit 2
  fi
  if [[ -z "$(ls -A "$CACHE")" ]]; then
    echo "Cache path $CACHE is empty: nothing to restore."
    return 0
  fi
  "$ALLUXIO" "${WORKER_OPTS[@]}" cache restore "$CACHE" || exit 2
}

start_worker() {
  local logs pidf log name=worker
  logs=$(logs_dir)
  # A worker with its own options is named after its port: several can share a host.
  if [[ ${#WORKER_OPTS[@]} -gt 0 ]]; then
    name=worker-$(worker_conf alluxio.worker.rpc.port)
  fi
  pidf=$logs/$name.pid
  log=$logs/$name.log
  if pid_alive "$pidf"; then
    echo "Worker is already running @ $(local_hostname) (pid $(cat "$pidf")); not starting another."
    return 0
  fi
  prepare_ramdisk || return 1
  if [[ -n "$FORMAT" ]]; then
    "$ALLUXIO" "${WORKER_OPTS[@]}" formatWorker || return 1
  fi
  if [[ -n "$CACHE" ]]; then
    restore_cache
  fi
  echo "Starting worker @ $(local_hostname). Logging to $logs"
  nohup "$ALLUXIO" "${WORKER_OPTS[@]}" process worker >>"$log" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$pidf"
  printf '%s\n' "${WORKER_OPTS[@]}" >"$logs/$name.opts"
  if [[ -z "$ASYNC" ]]; then
    wait_for_port worker "$pid" "$(worker_conf alluxio.worker.rpc.port)" "$log" || return 1
  fi
}

start_proxy() {
  local logs pidf log
  logs=$(logs_dir)
  pidf=$logs/proxy.pid
  log=$logs/proxy.log
  if pid_alive "$pidf"; then
    echo "Proxy is already running @ $(local_hostname) (pid $(cat "$pidf")); not starting another."
    return 0
  fi
  echo "Starting proxy @ $(local_hostname). Logging to $logs"
  nohup "$ALLUXIO" process proxy >>"$log" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$pidf"
  if [[ -z "$ASYNC" ]]; then
    wait_for_port proxy "$pid" "$(get_conf alluxio.proxy.web.port)" "$log" || return 1
  fi
}

# Runs this script with one ACTION on each host of conf/<file>.
on_hosts() {
  local file=$1 action=$2 rc=0 h done_local=""
  local args=()
  [[ -n "$ASYNC" ]] && args+=(-a)
  [[ -n "$BACKUP" ]] && args+=(-i "$BACKUP")
  args+=("$action")
  [[ "$action" == "worker" ]] && args+=("$MOPT")
  [[ -n "$FORMAT" ]] && args+=(-f)
  [[ -n "$CACHE" ]] && args+=(-c "$CACHE")
  local line h opts
  while read -r line; do
    h=${line%% *}
    opts=()
    [[ "$line" == *" "* ]] && read -r -a opts <<<"${line#* }"
    if is_local_host "$h" && [[ ${#opts[@]} -eq 0 ]]; then
      [[ -n "$done_local" ]] && continue
      done_local=1
    fi
    run_on "$h" "$BIN_DIR/alluxio-start.sh" "${args[@]}" "${opts[@]}" </dev/null || rc=$?
  done < <(host_lines "$file")
  return $rc
}

case "$ACTION" in
  master) start_master ;;
  worker) start_worker ;;
  local) start_master && start_worker ;;
  masters) on_hosts masters master ;;
  workers) on_hosts workers worker ;;
  all) on_hosts masters master && on_hosts workers worker && on_hosts masters proxy && on_hosts workers proxy ;;
  proxy) start_proxy ;;
  proxies) on_hosts masters proxy && on_hosts workers proxy ;;
esac
