#!/usr/bin/env bash
# TLS on every hop (issue 14), judged from outside the nodes with stock clients (openssl s_client,
# curl, etcdctl, psql) on the default 3-node inventory with `tls: {enabled: true}`, on 10.71.0.0/24:
#   up -> a plan after it shows no changes -> every TCP port every node listens on (but SSH) speaks
#   TLS with a certificate that verifies against the cluster CA for the node's name and for its
#   address -> plaintext to etcd (client and peer), to Patroni's unsafe methods and to PostgreSQL is
#   refused -> etcdctl with no certificate, or one from another CA, cannot read /service/ -> psql
#   through the VIP's write port with sslmode=verify-full writes, sslmode=disable is refused ->
#   every replication connection on the leader is ssl -> check failover --fault kill-node and
#   --fault partition pass over TLS -> a node certificate forced to expire within 30 days is
#   renewed by the next up, with no leader change -> down.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
cd "$PGHA_SOURCE_DIR"

BASE_INV=inventories/docker-local.yml BASE_NAME=pgha-local BASE_NET=10.42.0 NET=10.71.0 CLUSTER=pgha-tls
WORK=$(mktemp -d /tmp/pgha-e2e-tls.XXXXXX)
INV=$WORK/tls.yml
STATE_ROOT=$WORK/state
STATE=$STATE_ROOT/$CLUSTER
CA=$STATE/tls/cluster-ca.crt
VIP=$NET.100
{ derive_inventory; printf '\ntls:\n  enabled: true\n'; } >"$INV"
cleanup() {
  "$PGHA" down -i "$INV" --state-dir "$STATE_ROOT" -q >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

log "removing leftovers of an earlier run"
"$PGHA" down -i "$INV" --state-dir "$STATE_ROOT" -q >/dev/null 2>&1 || true

log "up with TLS"
"$PGHA" up -i "$INV" --state-dir "$STATE_ROOT" >"$WORK/up.log" 2>&1 || { tail -40 "$WORK/up.log" >&2; fail "up failed"; }
grep -q "sslmode=verify-full" "$WORK/up.log" || { tail -20 "$WORK/up.log" >&2; fail "up's endpoints do not say how to connect with TLS"; }
"$PGHA" status -i "$INV" --state-dir "$STATE_ROOT" -o json >"$WORK/status.json" || { cat "$WORK/status.json" >&2; fail "status not healthy"; }
expect_healthy "$WORK/status.json" || fail "status after up"
python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["tls"]; assert 360 <= t["days_left"] <= 366, t' "$WORK/status.json" ||
  fail "status does not show the first certificate expiry"
"$PGHA" plan -i "$INV" --state-dir "$STATE_ROOT" -o json >"$WORK/noop.json" || fail "plan after up failed"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["changes"] == [], j["changes"]' "$WORK/noop.json" ||
  fail "the cluster is not converged after up"
[ -s "$CA" ] || fail "no cluster CA at $CA"

# tls_check ADDR PORT NAME STARTTLS: the handshake verifies against the cluster CA for NAME and for ADDR.
tls_check() {
  local addr=$1 port=$2 name=$3 starttls=$4 how out
  for how in "-verify_hostname $name" "-verify_ip $addr"; do
    # shellcheck disable=SC2086
    out=$(timeout 10 openssl s_client -connect "$addr:$port" $starttls -CAfile "$CA" $how -verify_return_error \
      -cert "$STATE/tls/client.crt" -key "$STATE/tls/client.key" -brief </dev/null 2>&1) ||
      { printf '%s\n' "$out" >&2; fail "$name $addr:$port: no verified TLS ($how)"; }
    grep -q "Verification: OK" <<<"$out" || { printf '%s\n' "$out" >&2; fail "$name $addr:$port: not verified ($how)"; }
  done
}

log "every TCP port of every node speaks verified TLS (SSH excepted)"
checked=0
for i in 1 2 3; do
  addr=$NET.1$i name=pg$i
  # Listeners reachable from outside: the node's address, or every address. Loopback-only ones
  # (etcd's and PgBouncer's local listeners) are not reachable from here.
  ports=$(node_ssh "$STATE" "$addr" "ss -Hltn" | awk -v a="$addr" '{ split($4, p, ":"); port = p[length(p)];
      host = substr($4, 1, length($4) - length(port) - 1);
      if (host == a || host == "*" || host == "0.0.0.0" || host == "[::]") print port }' | sort -un)
  [ -n "$ports" ] || fail "$name: no listening ports seen"
  for port in $ports; do
    case $port in
      22) continue ;;                                          # SSH: the documented exception
      5432 | 5000 | 5001 | 6432) tls_check "$addr" "$port" "$name" "-starttls postgres" ;;
      *) tls_check "$addr" "$port" "$name" "" ;;
    esac
    checked=$((checked + 1))
  done
  log "$name: ports $(tr '\n' ' ' <<<"$ports")verified"
done
[ "$checked" -ge 18 ] || fail "only $checked TLS ports checked"

log "plaintext is refused: etcd client and peer, Patroni's unsafe methods, PostgreSQL"
ADMIN_PW=$(secret "$STATE" admin_password)
SU_PW=$(secret "$STATE" superuser_password)
for port in 2379 2380; do
  if out=$(curl -s -m 5 "http://$NET.11:$port/version"); then
    [ -z "$out" ] || fail "etcd answers plaintext on $port: $out"
  fi
done
code=$(curl -s -o /dev/null -w '%{http_code}' -m 5 -u "admin:$ADMIN_PW" -X POST "http://$NET.11:8008/reload" || true)
[ "$code" != 200 ] && [ "$code" != 202 ] || fail "Patroni took a plaintext POST /reload ($code)"
code=$(curl -s -o /dev/null -w '%{http_code}' -m 5 --cacert "$CA" -u "admin:$ADMIN_PW" -X POST "https://$NET.11:8008/reload" || true)
[ "$code" = 403 ] || [ "$code" = 401 ] || fail "Patroni took POST /reload without a client certificate ($code)"
code=$(curl -s -o /dev/null -w '%{http_code}' -m 5 --cacert "$CA" --cert "$STATE/tls/client.crt" --key "$STATE/tls/client.key" \
  -u "admin:$ADMIN_PW" "https://$NET.11:8008/cluster")
[ "$code" = 200 ] || fail "Patroni's REST API over verified TLS answered $code"
if PGPASSWORD=$SU_PW psql "host=$NET.11 port=5432 user=postgres dbname=postgres sslmode=disable connect_timeout=5" -XtAc "select 1" >/dev/null 2>"$WORK/nossl.err"; then
  fail "PostgreSQL took a plaintext connection"
fi
grep -q "no encryption" "$WORK/nossl.err" || { cat "$WORK/nossl.err" >&2; fail "plaintext refused for another reason"; }

log "etcdctl without a certificate, or with another CA's, cannot read /service/"
export ETCDCTL_API=3
etcdctl --endpoints="https://$NET.11:2379" --cacert "$CA" --cert "$STATE/tls/client.crt" --key "$STATE/tls/client.key" \
  --command-timeout=5s get --prefix --keys-only /service/ | grep -q "/service/$CLUSTER/leader" ||
  fail "etcdctl with pgha's certificate cannot read the leader key"
if etcdctl --endpoints="https://$NET.11:2379" --cacert "$CA" --command-timeout=5s get --prefix /service/ >"$WORK/e1" 2>&1; then
  fail "etcdctl without a client certificate read /service/"
fi
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj "/CN=other CA" \
  -keyout "$WORK/other-ca.key" -out "$WORK/other-ca.crt" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=root" \
  -keyout "$WORK/other.key" -out "$WORK/other.csr" 2>/dev/null
printf 'extendedKeyUsage=clientAuth\n' >"$WORK/ext"
openssl x509 -req -in "$WORK/other.csr" -CA "$WORK/other-ca.crt" -CAkey "$WORK/other-ca.key" -CAcreateserial \
  -days 30 -extfile "$WORK/ext" -out "$WORK/other.crt" 2>/dev/null
if etcdctl --endpoints="https://$NET.11:2379" --cacert "$CA" --cert "$WORK/other.crt" --key "$WORK/other.key" \
  --command-timeout=5s get --prefix /service/ >"$WORK/e2" 2>&1; then
  fail "etcdctl with another CA's certificate read /service/"
fi

log "psql through the VIP with sslmode=verify-full writes; sslmode=disable is refused"
PGPASSWORD=$SU_PW psql "host=$VIP port=5000 user=postgres dbname=postgres sslmode=verify-full sslrootcert=$CA connect_timeout=5" \
  -XtAc "CREATE TABLE IF NOT EXISTS tls_probe (id int); INSERT INTO tls_probe VALUES (1)" >/dev/null ||
  fail "no verified write through the VIP"
if PGPASSWORD=$SU_PW psql "host=$VIP port=5000 user=postgres dbname=postgres sslmode=disable connect_timeout=5" -XtAc "select 1" >/dev/null 2>&1; then
  fail "the VIP's write port took a plaintext connection"
fi

log "every replication connection on the leader is ssl"
rep=$(PGPASSWORD=$SU_PW psql "host=$VIP port=5000 user=postgres dbname=postgres sslmode=verify-full sslrootcert=$CA" -XtAc \
  "SELECT count(*), bool_and(s.ssl) FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid)")
[ "$rep" = "2|t" ] || fail "replication connections: $rep (want 2|t)"

leader() {
  "$PGHA" status -i "$INV" --state-dir "$STATE_ROOT" -o json |
    python3 -c 'import json,sys; print(next(m["member"] for m in json.load(sys.stdin)["members"] if m["role"] in ("leader","primary")))'
}

for fault in kill-node partition; do
  log "check failover --fault $fault over TLS"
  "$PGHA" check failover -i "$INV" --state-dir "$STATE_ROOT" --fault "$fault" -o json >"$WORK/$fault.json" 2>"$WORK/$fault.log" ||
    { tail -30 "$WORK/$fault.log" >&2; cat "$WORK/$fault.json" >&2; fail "check failover --fault $fault"; }
  python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); r=j["runs"][0]; print("rto_s", r.get("rto_s"), "lost", r.get("lost_writes"))' "$WORK/$fault.json" >&2 || true
done

log "a certificate expiring within 30 days is renewed by the next up, with no leader change"
# The state's certificate of a replica replaced by one of the same key and names that expires in 10
# days, as if it had been issued long ago.
victim=pg2
[ "$(leader)" != pg2 ] || victim=pg3
vaddr=$NET.1${victim#pg}
printf 'subjectAltName=DNS:%s,DNS:localhost,IP:%s,IP:127.0.0.1,IP:%s\nextendedKeyUsage=serverAuth,clientAuth\n' \
  "$victim" "$vaddr" "$VIP" >"$WORK/ext2"
openssl req -new -key "$STATE/tls/$victim.key" -subj "/CN=$victim" -out "$WORK/v.csr" 2>/dev/null
openssl x509 -req -in "$WORK/v.csr" -CA "$STATE/tls/ca.crt" -CAkey "$STATE/tls/ca.key" -CAcreateserial -days 10 \
  -extfile "$WORK/ext2" -out "$STATE/tls/$victim.crt" 2>/dev/null
before=$(leader)
"$PGHA" up -i "$INV" --state-dir "$STATE_ROOT" --ca-out "$WORK/app-ca.pem" >"$WORK/renew.log" 2>&1 || { tail -30 "$WORK/renew.log" >&2; fail "renewing up failed"; }
grep -q "$victim: issued again, expires" "$WORK/renew.log" || { tail -30 "$WORK/renew.log" >&2; fail "up does not say it renews $victim's certificate"; }
[ "$(leader)" = "$before" ] || fail "the renewal changed the leader"
cmp -s "$WORK/app-ca.pem" "$CA" || fail "up --ca-out did not write the cluster CA"
end=$(openssl x509 -in "$STATE/tls/$victim.crt" -noout -checkend $((30 * 86400)) >/dev/null && echo far || echo near)
[ "$end" = far ] || fail "the renewed certificate of $victim still expires within 30 days"
# served_far PORT STARTTLS: the certificate served there is the renewed one. Patroni takes a renewed
# certificate at its next loop after the reload, so this waits up to 20 s.
renewed=$(openssl x509 -in "$STATE/tls/$victim.crt" -noout -fingerprint -sha256)
served_far() {
  local i served
  for i in $(seq 1 20); do
    # shellcheck disable=SC2086
    served=$(timeout 10 openssl s_client -connect "$vaddr:$1" $2 -CAfile "$CA" -cert "$STATE/tls/client.crt" \
      -key "$STATE/tls/client.key" </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256 2>/dev/null || true)
    [ "$served" = "$renewed" ] && return 0
    sleep 1
  done
  return 1
}
served_far 8008 "" || fail "Patroni on $victim still serves the old certificate"
served_far 5432 "-starttls postgres" || fail "PostgreSQL on $victim still serves the old certificate"
served_far 2379 "" || fail "etcd on $victim still serves the old certificate"
served_far 6432 "-starttls postgres" || fail "PgBouncer on $victim still serves the old certificate"
served_far 7000 "" || fail "HAProxy's stats page on $victim still serves the old certificate"
"$PGHA" status -i "$INV" --state-dir "$STATE_ROOT" -o json >"$WORK/status2.json" || fail "status after the renewal"
expect_healthy "$WORK/status2.json" || fail "status after the renewal"

log "down"
"$PGHA" down -i "$INV" --state-dir "$STATE_ROOT" -q >/dev/null || fail "down failed"
log "PASS"
