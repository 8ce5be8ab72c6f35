#!/bin/sh
# examples/fetch/test_fetch.sh BINARY BACKEND — runs interloop-fetch on
# BACKEND against a real server no one here wrote: `python3 -m http.server`
# on a free loopback port, serving a temporary directory of files of known
# sizes (one over 1 MiB). Its CGI mode adds small shell scripts that answer
# with a chunked body, a body ended by the connection's close, a late answer
# (completion order) and a stalled one (--timeout). Checks every URL's line,
# the total and the RESULT line; the server is stopped on every exit.
set -eu
BIN=$1
BACKEND=$2

fail() {
  echo "FAIL (fetch, $BACKEND): $*" >&2
  if [ -s "${DIR:-/nonexistent}/out" ]; then
    echo "--- output:" >&2
    cat "$DIR/out" >&2
  fi
  exit 1
}

if ! command -v python3 >/dev/null 2>&1; then
  echo "FAIL (fetch, $BACKEND): python3 not found: this test serves files" \
    "with 'python3 -m http.server'. Install Debian's python3 package" \
    "(apt-get install python3)." >&2
  exit 1
fi

# The interpreter itself (a wrapper such as pyenv's shim can take a second
# to start), and whether its http.server still has the CGI mode (deprecated
# in Python 3.13, to be removed): without it only plain files are checked.
# shellcheck disable=SC2046 # two words, split on purpose
set -- $(python3 -c 'import sys, http.server
print(sys.executable, hasattr(http.server, "CGIHTTPRequestHandler"))')
[ $# = 2 ] || fail "python3 cannot import http.server"
PY=$1
CGI=""
[ "$2" = True ] && CGI=--cgi

DIR=$(mktemp -d)
SPID=""
cleanup() {
  if [ -n "$SPID" ]; then
    kill "$SPID" 2>/dev/null || true
    wait "$SPID" 2>/dev/null || true
  fi
  rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

# ---- the files served, and their sizes --------------------------------------
WWW=$DIR/www
mkdir -p "$WWW/cgi-bin"
# Run as root, the CGI mode runs its scripts as "nobody": let it in.
chmod 755 "$DIR" "$WWW" "$WWW/cgi-bin"
printf 'hello, world\n' >"$WWW/small.txt"
head -c 65537 /dev/urandom >"$WWW/medium.bin"
head -c 1572867 /dev/urandom >"$WWW/big.bin" # 1.5 MiB + 3
: >"$WWW/empty.txt"
size() { wc -c <"$WWW/$1" | tr -d ' '; }

# CGI scripts: the server sends its status line and a few headers, the
# script's output follows as is (so the script decides the framing).
cat >"$WWW/cgi-bin/chunked.sh" <<'EOF'
#!/bin/sh
printf 'Content-Type: application/octet-stream\r\n'
printf 'Transfer-Encoding: chunked\r\n\r\n'
printf '5\r\nhello\r\n'
printf '1A;note=an-extension\r\nabcdefghijklmnopqrstuvwxyz\r\n'
printf '11170\r\n'; head -c 70000 /dev/zero; printf '\r\n'
printf '0\r\nX-Trailer: yes\r\n\r\n'
EOF
CHUNKED_SIZE=70031 # 5 + 26 + 70000
cat >"$WWW/cgi-bin/close.sh" <<'EOF'
#!/bin/sh
printf 'Content-Type: application/octet-stream\r\n\r\n'
head -c 300000 /dev/zero
EOF
cat >"$WWW/cgi-bin/slow.sh" <<'EOF'
#!/bin/sh
sleep 1
printf 'Content-Type: text/plain\r\n\r\nslow\n'
EOF
cat >"$WWW/cgi-bin/stall.sh" <<'EOF'
#!/bin/sh
printf 'Content-Type: application/octet-stream\r\nContent-Length: 5000\r\n\r\n'
head -c 1000 /dev/zero
exec sleep 4
EOF
chmod +x "$WWW/cgi-bin/"*.sh

if [ -z "$CGI" ]; then
  echo "note: this python3 has no CGI mode: chunked bodies, bodies ended by" \
    "close, completion order and --timeout are not checked"
fi

# ---- the server ----------------------------------------------------------------
free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts the server on a free port (another one if that port was taken in
# between) and waits until it accepts connections. Sets SPID and PORT.
start_server() {
  for try in 1 2 3 4 5; do
    PORT=$(free_port)
    "$PY" -u -m http.server $CGI --bind 127.0.0.1 --directory "$WWW" \
      "$PORT" >"$DIR/server.log" 2>&1 &
    SPID=$!
    # It prints "Serving HTTP on ..." once listening; then one connection
    # shows it accepts.
    n=0
    while kill -0 "$SPID" 2>/dev/null && [ $n -lt 100 ]; do
      if grep -q "^Serving HTTP" "$DIR/server.log" &&
        "$PY" -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 5).close()"; then
        return 0
      fi
      n=$((n + 1))
      sleep 0.1
    done
    kill "$SPID" 2>/dev/null || true # exited (port taken?) or too slow
    wait "$SPID" 2>/dev/null || true
    SPID=""
    echo "note: server on port $PORT did not start (try $try):" \
      "$(tail -n 1 "$DIR/server.log")"
  done
  fail "python3 -m http.server did not start: $(cat "$DIR/server.log")"
}

# ---- helpers ------------------------------------------------------------------
# run EXPECTED_STATUS ARGS...: runs the example, output in $DIR/out.
run() {
  want=$1
  shift
  st=0
  "$BIN" "$@" >"$DIR/out" 2>"$DIR/err" || st=$?
  [ "$st" = "$want" ] || fail "exit status $st, expected $want: $(cat "$DIR/err")"
  [ ! -s "$DIR/err" ] || fail "unexpected stderr: $(cat "$DIR/err")"
}

# has TEXT: some line of the output begins with TEXT.
has() {
  awk -v s="$1" 'index($0, s) == 1 { found = 1 } END { exit !found }' \
    "$DIR/out" || fail "no line beginning with: $1"
}

# check_total: the total line and the RESULT line agree with the URL lines.
check_total() {
  sum=$(sed -n 's/.* \([0-9][0-9]*\) bytes (.*/\1/p; s/.* failed after \([0-9][0-9]*\) bytes: .*/\1/p' \
    "$DIR/out" | awk '{ s += $1 } END { print s + 0 }')
  has "total: $sum bytes, "
  [ "$(tail -n 1 "$DIR/out")" = "RESULT fetch $1 bytes=$sum" ] ||
    fail "last line is not: RESULT fetch $1 bytes=$sum"
}

# line_no TEXT: the number of the output line containing TEXT.
line_no() { grep -nF -- "$1" "$DIR/out" | head -n 1 | cut -d: -f1; }

start_server
U=http://127.0.0.1:$PORT
CLOSED=$(free_port) # nothing listens there

# ---- 1: every kind of URL at once -------------------------------------------
set -- "$U/small.txt" "http://localhost:$PORT/medium.bin" "$U/big.bin" \
  "$U/empty.txt" "$U/missing.txt" "http://127.0.0.1:$CLOSED/" \
  "ftp://127.0.0.1/x"
if [ -n "$CGI" ]; then
  set -- "$@" "$U/cgi-bin/chunked.sh" "$U/cgi-bin/close.sh" \
    "$U/cgi-bin/slow.sh?late"
fi
run 1 --backend "$BACKEND" --timeout 20 "$@"
has "fetching $# URLs on backend $BACKEND ("
has "$U/small.txt: 200 OK, $(size small.txt) bytes (content-length), "
has "http://localhost:$PORT/medium.bin: 200 OK, $(size medium.bin) bytes (content-length), "
has "$U/big.bin: 200 OK, $(size big.bin) bytes (content-length), "
has "$U/empty.txt: 200 OK, 0 bytes (content-length), "
grep -q "^$U/missing.txt: 404 [A-Za-z ]*, [0-9]* bytes (content-length), " \
  "$DIR/out" || fail "no 404 line for missing.txt"
has "http://127.0.0.1:$CLOSED/: failed: connection refused, "
has "ftp://127.0.0.1/x: failed: not an http:// URL, "
ok=4
if [ -n "$CGI" ]; then
  has "$U/cgi-bin/chunked.sh: 200 Script output follows, $CHUNKED_SIZE bytes (chunked), "
  has "$U/cgi-bin/close.sh: 200 Script output follows, 300000 bytes (until close), "
  has "$U/cgi-bin/slow.sh?late: 200 Script output follows, 5 bytes (until close), "
  # Completion order: the late answer comes after every other URL's line.
  late=$(line_no "/cgi-bin/slow.sh?late: ")
  [ "$(sed -n "$((late + 1))p" "$DIR/out" | cut -c1-6)" = "total:" ] ||
    fail "the late URL's line is not the last one"
  ok=7
fi
[ "$(grep -c '^[a-z]*://.*, [0-9.]* s$' "$DIR/out")" = $# ] || fail "not one line per URL"
check_total "failed urls=$ok/$#"
echo "ok: $# URLs at once ($ok good, a 404, a refused connection, a bad URL)"

# ---- 2: only good URLs; the backend from $INTERLOOP_BACKEND ------------------
INTERLOOP_BACKEND=$BACKEND run 0 "$U/small.txt" "$U/big.bin" "$U/medium.bin"
has "fetching 3 URLs on backend $BACKEND ("
has "total: $(($(size small.txt) + $(size big.bin) + $(size medium.bin))) bytes, 3 of 3 URLs ok, "
check_total "ok urls=3/3"
echo "ok: 3 good URLs, $(tail -n 1 "$DIR/out")"

# ---- 3: --timeout: a server that stalls in the middle of a body --------------
if [ -n "$CGI" ]; then
  run 1 --backend "$BACKEND" --timeout 1 "$U/cgi-bin/stall.sh" "$U/small.txt"
  has "$U/cgi-bin/stall.sh: 200 Script output follows, failed after 1000 bytes: operation timed out, "
  has "$U/small.txt: 200 OK, 13 bytes (content-length), "
  check_total "failed urls=1/2"
  echo "ok: --timeout ends a stalled fetch, the other completes"
fi

# ---- 4: bad usage --------------------------------------------------------------
for args in "" "--timeout" "--timeout abc $U/" "--timeout -1 $U/" "--nope $U/"; do
  st=0
  # shellcheck disable=SC2086 # split the arguments on purpose
  "$BIN" $args >"$DIR/out" 2>&1 || st=$?
  [ "$st" = 2 ] || fail "'interloop-fetch $args' exited with $st, expected 2"
done
echo "ok: bad usage exits with 2"
echo "all fetch checks passed on $BACKEND"
