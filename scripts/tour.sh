#!/bin/sh
# scripts/tour.sh BUILD_DIR — the tour `make demo` runs.
#
# The same compiled programs run on every backend, chosen at run time with
# INTERLOOP_BACKEND: an echo server driven by a ping-pong client, the HTTP
# fetcher against python3's http.server, the RESP (Redis) client library
# against redis-server, and the engine-embedding programs. One row per
# backend, then one line saying whether every backend agreed.
set -u
build=${1:-build}
bin=$build/bin
backends="builtin uv ev event"
tmp=$(mktemp -d)
pids=""

cleanup() {
  for p in $pids; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

say() { printf '%s\n' "$*"; }

# The value of key=VALUE in a RESULT line ("" if absent).
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1; }

# Runs a program with a time limit and prints its RESULT line ("" if none).
result_of() {
  timeout 20 "$@" > "$tmp/out" 2> "$tmp/err"
  grep '^RESULT ' "$tmp/out" | tail -n 1
}

# A free loopback TCP port, asked of the kernel.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Waits until 127.0.0.1:$1 accepts a connection (up to ~5 s).
wait_port() {
  i=0
  while [ $i -lt 50 ]; do
    if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$1),0.2)" 2>/dev/null; then
      return 0
    fi
    sleep 0.1
    i=$((i + 1))
  done
  return 1
}

say "interloop tour: the same programs on every backend, chosen at run time"
say "(INTERLOOP_BACKEND=builtin|uv|ev|event); nothing is recompiled."
say ""

# ---- hello, once per backend ------------------------------------------------
if [ -x "$bin/interloop-hello" ]; then
  for b in $backends; do
    line=$(INTERLOOP_BACKEND=$b result_of "$bin/interloop-hello")
    say "  hello on $b: ${line:-failed}"
  done
  say ""
fi

# ---- servers the columns need ------------------------------------------------
fetch_reason=""
if ! command -v python3 > /dev/null 2>&1; then
  fetch_reason="python3 missing"
elif [ ! -x "$bin/interloop-fetch" ]; then
  fetch_reason="not built"
else
  mkdir -p "$tmp/www"
  head -c 1048576 /dev/urandom > "$tmp/www/big.bin"
  printf 'hello from a python3 http.server\n' > "$tmp/www/hello.txt"
  head -c 4000 /dev/zero | tr '\0' 'x' > "$tmp/www/page.html"
  hport=$(free_port)
  (cd "$tmp/www" && exec python3 -m http.server --bind 127.0.0.1 "$hport") \
    > "$tmp/http.log" 2>&1 &
  pids="$pids $!"
  wait_port "$hport" || fetch_reason="http.server did not start"
fi

resp_reason=""
if ! command -v redis-server > /dev/null 2>&1; then
  resp_reason="redis-server missing"
elif [ ! -x "$bin/interloop-resp-demo" ]; then
  resp_reason="not built"
else
  rport=$(free_port)
  redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize no > "$tmp/redis.log" 2>&1 &
  pids="$pids $!"
  wait_port "$rport" || resp_reason="redis-server did not start"
fi

# ---- one row per backend -------------------------------------------------------
printf '%-8s | %-22s | %13s | %-22s | %-22s | %-10s\n' \
  backend engine "echo trips/s" fetch RESP embed
printf '%s\n' "---------+------------------------+---------------+------------------------+------------------------+-----------"
agree=yes
first_fetch="" first_resp=""
for b in $backends; do
  engine=$("$bin/interloop-info" --engine "$b" 2> /dev/null | sed 's/^interloop //')
  [ -n "$engine" ] || { engine="not loadable"; agree=no; }

  # Echo: the example server on this backend, driven by a ping-pong client.
  rate="-"
  if [ -x "$bin/interloop-echo-server" ] && [ -x "$bin/bench_echo_client" ]; then
    : > "$tmp/echo.log" # never read the previous backend's port line
    INTERLOOP_BACKEND=$b "$bin/interloop-echo-server" --port 0 > "$tmp/echo.log" 2>&1 &
    epid=$!
    eport=""
    i=0
    while [ -z "$eport" ] && [ $i -lt 50 ]; do
      eport=$(sed -n 's/.* port \([0-9][0-9]*\).*/\1/p' "$tmp/echo.log" | head -n 1)
      [ -n "$eport" ] || sleep 0.1
      i=$((i + 1))
    done
    if [ -n "$eport" ]; then
      line=$(timeout 20 "$bin/bench_echo_client" pingpong "$eport" --conns 1 --trips 20000 2> /dev/null)
      rate=$(printf '%s\n' "$line" | awk '$1 == "pingpong" && $2 > 0 { printf "%.0f", $4 / $2 }')
    fi
    kill "$epid" 2> /dev/null
    wait "$epid" 2> /dev/null
    [ -n "$rate" ] || { rate="failed"; agree=no; }
  fi

  # Fetch: the same URLs from every backend must give the same bytes.
  if [ -n "$fetch_reason" ]; then
    fetch="skipped: $fetch_reason"
  else
    base="http://127.0.0.1:$hport"
    line=$(INTERLOOP_BACKEND=$b result_of "$bin/interloop-fetch" \
      "$base/hello.txt" "$base/page.html" "$base/big.bin")
    case "$line" in
      "RESULT fetch ok"*) fetch="ok $(field "$line" urls) urls, $(field "$line" bytes) B" ;;
      *) fetch="failed"; agree=no ;;
    esac
    [ -z "$first_fetch" ] && first_fetch=$fetch
    [ "$fetch" = "$first_fetch" ] || agree=no
  fi

  # RESP: the library compiled once, pipelined commands and pub/sub.
  if [ -n "$resp_reason" ]; then
    resp="skipped: $resp_reason"
  else
    line=$(INTERLOOP_BACKEND=$b result_of "$bin/interloop-resp-demo" \
      127.0.0.1 "$rport")
    case "$line" in
      "RESULT resp ok"*) resp="ok $(field "$line" commands) cmds, $(field "$line" pubsub) msgs" ;;
      *) resp="failed"; agree=no ;;
    esac
    [ -z "$first_resp" ] && first_resp=$resp
    [ "$resp" = "$first_resp" ] || agree=no
  fi

  # Embedding: an application's own engine loop, adopted and given back.
  embed="n/a"
  if [ "$b" != builtin ]; then
    if [ -x "$bin/interloop-embed-$b" ]; then
      line=$(result_of "$bin/interloop-embed-$b")
      case "$line" in
        "RESULT embed ok"*) embed="clean" ;;
        *) embed="failed"; agree=no ;;
      esac
    else
      embed="not built"
    fi
  fi

  printf '%-8s | %-22s | %13s | %-22s | %-22s | %-10s\n' \
    "$b" "$engine" "$rate" "$fetch" "$resp" "$embed"
done
say ""
if [ "$agree" = yes ]; then
  say "Every backend agreed: same fetch bytes, same RESP replies, every check passed."
  exit 0
fi
say "The backends did NOT agree (or a check failed): see the rows above."
exit 1
