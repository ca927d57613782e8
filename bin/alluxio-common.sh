#!/usr/bin/env bash
# Shared by alluxio-start.sh and alluxio-stop.sh: locations, configuration lookup, pid files.

BIN_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export ALLUXIO_HOME=${ALLUXIO_HOME:-$(dirname "$BIN_DIR")}
export ALLUXIO_CONF_DIR=${ALLUXIO_CONF_DIR:-$ALLUXIO_HOME/conf}
ALLUXIO=$BIN_DIR/alluxio

# Looks up a property with every source applied (site file, environment, -D in ALLUXIO_JAVA_OPTS).
get_conf() {
  "$ALLUXIO" getConf "$1"
}

local_hostname() {
  hostname -f 2>/dev/null || hostname
}

is_local_host() {
  local h=$1
  [[ "$h" == "localhost" || "$h" == "127.0.0.1" || "$h" == "$(hostname)" || "$h" == "$(local_hostname)" ]]
}

# Lines of conf/<file> (comments and blank lines skipped): a host, then optional -Dkey=value
# options for the process started there (several workers on one host each get their own ports
# and tier directories this way). localhost when the file is absent.
host_lines() {
  local f=$ALLUXIO_CONF_DIR/$1
  if [[ -f "$f" ]]; then
    sed -e 's/#.*//' -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' "$f" | grep -v '^$' || true
  else
    echo localhost
  fi
}

# The distinct hosts of conf/<file>.
hosts_of() {
  host_lines "$1" | awk '{print $1}' | awk '!seen[$0]++'
}

logs_dir() {
  local d
  d=$(get_conf alluxio.logs.dir)
  mkdir -p "$d"
  echo "$d"
}

# pid_alive <pid file>: true when the file names a live alluxio process.
pid_alive() {
  local f=$1 pid
  [[ -f "$f" ]] || return 1
  pid=$(cat "$f" 2>/dev/null) || return 1
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && grep -q "alluxio" "/proc/$pid/cmdline" 2>/dev/null
}

# Runs a command on a host: directly when local, through ssh otherwise.
run_on() {
  local host=$1
  shift
  if is_local_host "$host"; then
    "$@"
  else
    ssh -o StrictHostKeyChecking=no -o ConnectTimeout=5 "$host" "ALLUXIO_HOME=$ALLUXIO_HOME ALLUXIO_CONF_DIR=$ALLUXIO_CONF_DIR $*"
  fi
}
