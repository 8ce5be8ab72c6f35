#!/bin/sh
# examples/resp/test_resp.sh BACKEND TEST DEMO — the RESP library against a
# real Redis server on one backend: starts Debian's redis-server on a free
# loopback port, runs the test binary on a loop interloop owns and, for the
# adapters (uv, ev, event), on an adopted engine loop, then runs the demo and
# checks its output. The server is stopped at the end, also on failure.
set -eu
BACKEND=$1
TEST=$2
DEMO=$3

fail() { echo "FAIL: $*" >&2; exit 1; }

command -v redis-server >/dev/null 2>&1 ||
  fail "redis-server is not installed (Debian package redis-server;" \
    "scripts/deps.sh installs it)"

DIR=$(mktemp -d)
RPID=""
stop_redis() {
  if [ -n "$RPID" ]; then
    kill "$RPID" 2>/dev/null || true
    wait "$RPID" 2>/dev/null || true
    RPID=""
  fi
}
trap 'stop_redis; rm -rf "$DIR"' EXIT
trap 'exit 1' HUP INT TERM

# A free port can be taken by someone else before redis binds it: retry.
attempt=0
while :; do
  attempt=$((attempt + 1))
  [ $attempt -le 5 ] ||
    fail "redis-server did not start: $(tail -n 5 "$DIR/redis.log")"
  PORT=$("$TEST" --free-port)
  redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize no --dir "$DIR" --logfile '' >"$DIR/redis.log" 2>&1 &
  RPID=$!
  n=0
  while kill -0 "$RPID" 2>/dev/null &&
    ! grep -q "Ready to accept connections" "$DIR/redis.log"; do
    n=$((n + 1))
    [ $n -le 200 ] || break
    sleep 0.05
  done
  if kill -0 "$RPID" 2>/dev/null &&
    grep -q "Ready to accept connections" "$DIR/redis.log"; then
    break
  fi
  stop_redis
done
echo "redis-server $(redis-server --version | sed 's/.* v=\([^ ]*\).*/\1/')" \
  "on 127.0.0.1:$PORT"

"$TEST" --backend "$BACKEND" --port "$PORT" ||
  fail "the tests failed on $BACKEND (owned)"
case $BACKEND in
uv | ev | event)
  "$TEST" --backend "$BACKEND" --adopted --port "$PORT" ||
    fail "the tests failed on $BACKEND (adopted)"
  ;;
esac

status=0
"$DEMO" --backend "$BACKEND" 127.0.0.1 "$PORT" >"$DIR/demo.out" \
  2>"$DIR/demo.err" || status=$?
cat "$DIR/demo.out" "$DIR/demo.err"
[ $status = 0 ] || fail "the demo exited with status $status"
grep -q "every reply matched its command" "$DIR/demo.out" ||
  fail "the demo did not check its pipelined replies"
[ "$(grep -c "listener received on" "$DIR/demo.out")" = 3 ] ||
  fail "the demo's listener did not receive three messages"
tail -n 1 "$DIR/demo.out" |
  grep -Eq '^RESULT resp ok commands=[1-9][0-9]* pubsub=3$' ||
  fail "the demo's last line is not its RESULT line"
if grep -Eq '^interloop\[|runtime error:|AddressSanitizer|LeakSanitizer' \
  "$DIR/demo.err"; then
  fail "the demo reported an error"
fi
echo "all resp checks passed on $BACKEND"
