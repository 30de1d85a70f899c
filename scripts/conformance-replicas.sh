#!/usr/bin/env bash
# The official conformance suite (0.2.0-alpha.12, both eras) through a load balancer in front
# of two replicas sharing a Redis store: a real redis-server (Debian's package) and HAProxy
# round-robin with no stickiness (examples/tests/replicas/haproxy.cfg.template, the config the
# guide's "Running several replicas" shows), each started here on a free loopback port with
# its configuration under target/replicas/. Every request of a 2025-era session may land on
# either replica, and every tasks/* request of the 2026-07-28 era too (tasks are shared
# through the same Redis store).
#
# Called by scripts/conformance.sh (which installs the suite into target/node-alpha and
# builds conformance-server first); usage: scripts/conformance-replicas.sh SERVER_BIN
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
server_bin=$1
alpha_dir="$root/target/node-alpha"
dir="$root/target/replicas"
rm -rf "$dir"
mkdir -p "$dir"

# A free loopback port below the kernel's ephemeral range (chosen at random), where no
# outgoing connection takes it between this probe and the program's bind (as
# mcp-transport/tests/support/ports.rs does for the Rust tests).
free_port() {
  python3 - <<'PY'
import random, socket
try:
    low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
except (OSError, ValueError, IndexError):
    low = 32768
for _ in range(200):
    port = random.randrange(10000, max(low, 11000))
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    break
else:
    s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}
wait_port() { # port what
  for _ in $(seq 1 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "$2 did not listen on port $1" >&2
  return 1
}

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

redis_port=$(free_port)
cat >"$dir/redis.conf" <<CONF
bind 127.0.0.1
port $redis_port
save ""
appendonly no
dir $dir
CONF
/usr/bin/redis-server "$dir/redis.conf" >"$dir/redis.log" 2>&1 &
pids+=($!)
wait_port "$redis_port" redis-server

key=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
ports=()
for n in 1 2; do
  port=$(free_port)
  ports+=("$port")
  # ANCHOR: replica
  RUST_LOG="${RUST_LOG:-info}" "$server_bin" --transport http --bind "127.0.0.1:$port" \
    --allowed-hosts 127.0.0.1,localhost --store "redis://127.0.0.1:$redis_port/" \
    --request-state-key "$key" >"$dir/replica$n.log" 2>&1 &
  # ANCHOR_END: replica
  pids+=($!)
done
wait_port "${ports[0]}" replica1
wait_port "${ports[1]}" replica2

lb_port=$(free_port)
sed -e "s|@LISTEN@|127.0.0.1:$lb_port|" -e "s|@REPLICA1@|127.0.0.1:${ports[0]}|" \
  -e "s|@REPLICA2@|127.0.0.1:${ports[1]}|" examples/tests/replicas/haproxy.cfg.template \
  >"$dir/haproxy.cfg"
/usr/sbin/haproxy -db -f "$dir/haproxy.cfg" >"$dir/haproxy.log" 2>&1 &
pids+=($!)
wait_port "$lb_port" haproxy
url="http://127.0.0.1:$lb_port/mcp"
echo "==> two replicas (ports ${ports[*]}, Redis on $redis_port) behind HAProxy round-robin at $url"

# The tasks extension's scenarios (SEP-2663), as scripts/conformance.sh lists them.
tasks_scenarios=(tasks-lifecycle tasks-capability-negotiation tasks-wire-fields
  tasks-request-state-removal tasks-mrtr-input tasks-request-headers
  tasks-dispatch-and-envelope tasks-status-notifications tasks-required-task-error
  tasks-mrtr-composition)
failed=()
for era in 2026-07-28 2025-11-25; do
  output="$dir/alpha-$era.txt"
  echo
  echo "==> conformance through the balancer, --requirements $era"
  set +e
  PATH="$alpha_dir/node_modules/.bin:$PATH" conformance server --url "$url" \
    --requirements "$era" -o "$dir/alpha-$era" 2>&1 | tee "$output"
  set -e
  lines=$(sed -n '/=== SUMMARY ===/,/^Total:/p' "$output" | grep -E '^[✓✗] ' || true)
  bad=$(echo "$lines" | grep '^✗ ' || true)
  if [ "$era" = 2026-07-28 ]; then
    # The tasks extension's scenarios, each required by name: tasks live in the shared
    # store, so a task created through one replica is read and cancelled through the other.
    for scenario in "${tasks_scenarios[@]}"; do
      echo "$lines" | grep -q "^✓ $scenario:" || bad+=$'\n'"✗ $scenario: missing from the summary or failed"
    done
  fi
  if [ -z "$lines" ] || [ -n "$bad" ]; then
    echo "conformance through the balancer ($era) FAILED:" >&2
    echo "${bad:-no per-scenario summary}" >&2
    failed+=("$era")
  else
    echo "conformance through the balancer ($era): $(echo "$lines" | grep -c '^✓ ') of $(echo "$lines" | wc -l) scenarios pass"
  fi
done
# Both replicas served: the balancer really spread the sessions' requests.
for n in 1 2; do
  grep -q "serving as one replica of several" "$dir/replica$n.log" \
    || { echo "replica $n did not join the shared store" >&2; failed+=("replica$n"); }
done
if [ "${#failed[@]}" -ne 0 ]; then
  echo "logs: $dir" >&2
  exit 1
fi
echo "conformance through two replicas: every scenario passes in both eras, the tasks-* extension included"
