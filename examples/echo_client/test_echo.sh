#!/bin/sh
# examples/echo_client/test_echo.sh SERVER CLIENT — the echo examples against
# each other and against nc and socat, on the backend $INTERLOOP_BACKEND:
# both server styles (protocol, tasks) × both client styles, over TCP and a
# Unix socket, with a short interactive-style input and a 1 MiB file; nc and
# socat as clients of our servers, and socat as the server of our clients.
set -eu
SERVER=$1
CLIENT=$2
DIR=$(mktemp -d)
SPID=""
cleanup() {
  [ -n "$SPID" ] && kill "$SPID" 2>/dev/null || true
  rm -rf "$DIR"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

printf 'hello\nworld\n' >"$DIR/short"
# 1 MiB of varied bytes (not one repeated line).
i=0; : >"$DIR/big"
while [ $i -lt 64 ]; do seq $((i * 1000)) $((i * 1000 + 2000)) >>"$DIR/part"; i=$((i + 1)); done
head -c 1048576 "$DIR/part" >"$DIR/big"

# start_server STYLE ARGS...: starts the server, sets SPID and PORT.
start_server() {
  style=$1; shift
  flag=""; [ "$style" = tasks ] && flag=--tasks
  # Emptied here, not only by the child's redirection: the loop below must
  # never read the previous server's port line.
  : >"$DIR/server.out"
  "$SERVER" $flag "$@" >"$DIR/server.out" 2>"$DIR/server.err" &
  SPID=$!
  n=0
  while ! grep -q "echo server" "$DIR/server.out" 2>/dev/null; do
    n=$((n + 1)); [ $n -gt 100 ] && fail "server did not start: $(cat "$DIR/server.err")"
    sleep 0.05
  done
  PORT=$(sed -n 's/.* port \([0-9]*\),.*/\1/p' "$DIR/server.out")
}

stop_server() {
  kill -TERM "$SPID"
  wait "$SPID" || fail "server exited with $?: $(cat "$DIR/server.err")"
  SPID=""
  grep -q "served" "$DIR/server.out" || fail "server did not finish cleanly"
}

# check NAME INPUT OUTPUT
check() { cmp -s "$2" "$3" || fail "$1: echo differs from input"; echo "ok: $1"; }

for sstyle in protocol tasks; do
  start_server $sstyle
  for cstyle in protocol tasks; do
    flag=""; [ "$cstyle" = tasks ] && flag=--tasks
    "$CLIENT" $flag 127.0.0.1 "$PORT" <"$DIR/short" >"$DIR/out"
    check "$cstyle client, $sstyle server, tcp, short" "$DIR/short" "$DIR/out"
    cat "$DIR/big" | "$CLIENT" $flag 127.0.0.1 "$PORT" >"$DIR/out"
    check "$cstyle client, $sstyle server, tcp, 1 MiB pipe" "$DIR/big" "$DIR/out"
  done
  nc -N 127.0.0.1 "$PORT" <"$DIR/big" >"$DIR/out"
  check "nc client, $sstyle server" "$DIR/big" "$DIR/out"
  socat -t 5 - "TCP:127.0.0.1:$PORT" <"$DIR/short" >"$DIR/out"
  check "socat client, $sstyle server" "$DIR/short" "$DIR/out"
  stop_server

  start_server $sstyle --unix "$DIR/sock"
  for cstyle in protocol tasks; do
    flag=""; [ "$cstyle" = tasks ] && flag=--tasks
    "$CLIENT" $flag --unix "$DIR/sock" <"$DIR/big" >"$DIR/out"
    check "$cstyle client, $sstyle server, unix, 1 MiB file" "$DIR/big" "$DIR/out"
  done
  stop_server
  [ -e "$DIR/sock" ] && fail "unix socket file left behind"
done

# socat as the echo server, our clients connecting to it.
socat "UNIX-LISTEN:$DIR/socat.sock,fork" PIPE &
SPID=$!
n=0
while [ ! -S "$DIR/socat.sock" ]; do
  n=$((n + 1)); [ $n -gt 100 ] && fail "socat did not start"; sleep 0.05
done
for cstyle in protocol tasks; do
  flag=""; [ "$cstyle" = tasks ] && flag=--tasks
  "$CLIENT" $flag --unix "$DIR/socat.sock" <"$DIR/short" >"$DIR/out"
  check "$cstyle client, socat server" "$DIR/short" "$DIR/out"
done
kill "$SPID"; wait "$SPID" 2>/dev/null || true; SPID=""
echo "all echo checks passed on ${INTERLOOP_BACKEND:-builtin}"
