# The write probe of the end-to-end tests: one psql session through HOST:PORT inserting the next
# sequence number into TABLE every 100 ms, each followed by an \echo that psql prints only once the
# INSERT has committed; every acknowledgement is timestamped as it arrives ("EPOCH SEQ ok" lines in
# $WORK/probe.log). A lost session (a switchover, a restart) ends psql; a new one starts at once and
# continues the sequence. One process per write would measure this machine's fork latency (a second
# and more under load), not the cluster's write gaps. lib/probe.py reads the log.
probe_pid=

# start_probe WORK HOST PORT PASSWORD TABLE: TABLE (seq bigint PRIMARY KEY) must exist.
start_probe() {
  local work=$1 host=$2 port=$3 pw=$4 table=$5
  (
    set +e +o pipefail  # a session that ends is the normal case here, not an error
    export PGPASSWORD=$pw PGCONNECT_TIMEOUT=2
    echo 0 >"$work/seq"
    while :; do
      {
        i=$(cat "$work/seq")
        while :; do
          i=$((i + 1))
          echo "$i" >"$work/seq"
          printf 'INSERT INTO %s VALUES (%d);\n\\echo ack %d\n' "$table" "$i" "$i"
          sleep 0.1
        done
      } | stdbuf -oL psql -X -q -v ON_ERROR_STOP=1 -h "$host" -p "$port" -U postgres -d postgres 2>/dev/null |
        while read -r _ n; do echo "$EPOCHREALTIME $n ok"; done
      sleep 0.05
    done
  ) >"$work/probe.log" &
  probe_pid=$!
}

# The probe is a subshell running a pipeline: its children go first, then it.
stop_probe() {
  [ -n "$probe_pid" ] || return 0
  pkill -P "$probe_pid" 2>/dev/null || true
  kill "$probe_pid" 2>/dev/null || true
  probe_pid=
}
