#!/usr/bin/env bash
# bench-peer.sh: peerd's figures beside reference tools, in one run, on
# loopback (`make bench-peer`). Not a test: run it on a quiet machine.
#
#   serving:  tools/chunk-pull pulling a page-cached file from one peerd,
#             chunk by chunk, vs. curl -o /dev/null from nginx (sendfile on)
#   hashing:  peerd's cold start on a dir holding only that file (its own
#             "ready ... in S s" line) vs. b2sum on the same file
#   start-up: 10,000 small files, cold (no hash cache) and cached
#
# Environment: BENCH_SIZE_MB (default 1024), BENCH_FILES (default 10000),
# BENCH_RUNS (default 3, best run reported), BENCH_SERVE_RUNS (default 7,
# interleaved peerd/nginx pulls, median reported), BENCH_DIR (default: a temp dir),
# BUILD (default build), BINDIR (default .).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SIZE_MB=${BENCH_SIZE_MB:-1024}
FILES=${BENCH_FILES:-10000}
RUNS=${BENCH_RUNS:-3}
SERVE_RUNS=${BENCH_SERVE_RUNS:-7}
BUILD=${BUILD:-build}
BINDIR=${BINDIR:-.}
PEERD=$BINDIR/peerd
PULL=$BUILD/tools/chunk-pull

die() { echo "bench-peer: $*" >&2; exit 1; }
[ -x "$PEERD" ] || die "$PEERD not built (make first)"
[ -x "$PULL" ] || die "$PULL not built (make first)"

# Reference tools, installed only when missing.
need=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v b2sum >/dev/null 2>&1 || need+=(coreutils)
command -v python3 >/dev/null 2>&1 || need+=(python3)
[ ${#need[@]} -eq 0 ] || apt_install "${need[@]}"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

WORK=${BENCH_DIR:-$(mktemp -d /tmp/bench-peer-XXXXXX)}
mkdir -p "$WORK"
# nginx workers run as an unprivileged user when we are root: let them in.
chmod 755 "$WORK"
PIDS=()
cleanup() {
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	[ -n "${BENCH_DIR:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$2 - $1:.3f}')"; }
mbps() { python3 -c "print(f'{$1 / $2 / 1e6:.0f}')"; }
best_max() { printf '%s\n' "$@" | sort -g | tail -1; }
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
best_min() { printf '%s\n' "$@" | sort -g | head -1; }

NO_INDEX=127.0.0.1:$(free_port) # peers serve without an index

# Starts peerd on $1 (dir) and port $2; waits for its ready line.
# Sets PEER_PID and READY_WALL (seconds from exec to the ready line).
start_peer() {
	local dir=$1 port=$2 log=$3 t0
	t0=$(now)
	"$PEERD" -d "$dir" -p "$port" -i "$NO_INDEX" 2>"$log" &
	PEER_PID=$!
	PIDS+=("$PEER_PID")
	for _ in $(seq 1 60000); do
		grep -q "ready: sharing" "$log" && break
		kill -0 "$PEER_PID" 2>/dev/null || die "peerd exited: $(cat "$log")"
		sleep 0.01
	done
	READY_WALL=$(elapsed "$t0" "$(now)")
}
stop_peer() { kill -TERM "$PEER_PID"; wait "$PEER_PID" 2>/dev/null || true; }
# Seconds peerd itself reports for its first scan + hashing.
ready_secs() { sed -n 's/.*ready: sharing .* in \([0-9.]*\) s.*/\1/p' "$1" | tail -1; }

BYTES=$((SIZE_MB * 1024 * 1024))
BIG=$WORK/peers/1
mkdir -p "$BIG"
echo "bench-peer: writing a ${SIZE_MB} MiB file in $WORK" >&2
head -c "$BYTES" /dev/urandom >"$BIG/big.bin"
cat "$BIG/big.bin" >/dev/null # page-cached for everyone

# --- hashing -----------------------------------------------------------
hash_peerd=(); hash_b2=()
PORT=$(free_port)
for run in $(seq 1 "$RUNS"); do
	rm -rf "$BIG/.peerd"
	start_peer "$BIG" "$PORT" "$WORK/peerd-hash.log"
	hash_peerd+=("$(ready_secs "$WORK/peerd-hash.log")")
	stop_peer
	t0=$(now); b2sum "$BIG/big.bin" >/dev/null; hash_b2+=("$(elapsed "$t0" "$(now)")")
done
HP=$(best_min "${hash_peerd[@]}"); HB=$(best_min "${hash_b2[@]}")

# --- serving -----------------------------------------------------------
# Both servers up at once and the runs interleaved, so that whatever else
# the machine does weighs on both alike; the median run is reported.
start_peer "$BIG" "$PORT" "$WORK/peerd-serve.log" # cached start
SERVE_PEER_PID=$PEER_PID
NPORT=$(free_port)
mkdir -p "$WORK/nginx/tmp"
cat >"$WORK/nginx/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 64; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	client_body_temp_path $WORK/nginx/tmp;
	proxy_temp_path $WORK/nginx/tmp;
	fastcgi_temp_path $WORK/nginx/tmp;
	uwsgi_temp_path $WORK/nginx/tmp;
	scgi_temp_path $WORK/nginx/tmp;
	server {
		listen 127.0.0.1:$NPORT;
		root $BIG;
	}
}
CONF
"$NGINX" -p "$WORK/nginx" -e "$WORK/nginx/error.log" -c "$WORK/nginx/nginx.conf" &
NGINX_PID=$!
PIDS+=("$NGINX_PID")
for _ in $(seq 1 500); do curl -s -o /dev/null "http://127.0.0.1:$NPORT/" && break; sleep 0.01; done
serve_peer=(); serve_nginx=()
for run in $(seq 1 "$SERVE_RUNS"); do
	read -r code bps < <(curl -s -o /dev/null -w '%{http_code} %{speed_download}\n' "http://127.0.0.1:$NPORT/big.bin")
	[ "$code" = 200 ] || die "nginx answered $code (see $WORK/nginx/error.log)"
	serve_nginx+=("$(python3 -c "print(f'{$bps / 1e6:.1f}')")")
	out=$("$PULL" -p "$PORT" -d 4 big.bin)
	serve_peer+=("$(echo "$out" | sed -n 's/.*, \([0-9.]*\) MB\/s/\1/p')")
done
kill -TERM "$NGINX_PID"; wait "$NGINX_PID" 2>/dev/null || true
PEER_PID=$SERVE_PEER_PID; stop_peer

# --- start-up with many small files -------------------------------------
SMALL=$WORK/peers/2
echo "bench-peer: writing $FILES small files" >&2
python3 - "$SMALL" "$FILES" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = os.path.join(root, f"d{i // 100:03d}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"f{i:05d}.txt"), "wb") as f:
        f.write(os.urandom(1024))
PY
SPORT=$(free_port)
cold=(); cached=()
for run in $(seq 1 "$RUNS"); do
	rm -rf "$SMALL/.peerd"
	start_peer "$SMALL" "$SPORT" "$WORK/peerd-small.log"; cold+=("$READY_WALL"); stop_peer
	start_peer "$SMALL" "$SPORT" "$WORK/peerd-small.log"; cached+=("$READY_WALL")
	grep -q "hashed 0 files, $FILES from cache" "$WORK/peerd-small.log" || die "cached start hashed files: $(grep ready: "$WORK/peerd-small.log")"
	stop_peer
done

# --- the table ---------------------------------------------------------
SP=$(median "${serve_peer[@]}"); SN=$(median "${serve_nginx[@]}")
HPR=$(mbps "$BYTES" "$HP"); HBR=$(mbps "$BYTES" "$HB")
C=$(best_min "${cold[@]}"); K=$(best_min "${cached[@]}")
ratio() { python3 -c "print(f'{$1 / $2:.2f}x')"; }
echo
echo "peerd benchmark: ${SIZE_MB} MiB file, $FILES small files, $(nproc) cores; serving: median of $SERVE_RUNS interleaved runs, the rest: best of $RUNS"
printf '%-44s %12s %12s %10s\n' "measure" "peerd" "reference" "ratio"
printf '%-44s %12s %12s %10s\n' "serving, MB/s (chunk-pull vs nginx+curl)" "$SP" "$SN" "$(ratio "$SP" "$SN")"
printf '%-44s %12s %12s %10s\n' "hashing, MB/s (cold start vs b2sum)" "$HPR" "$HBR" "$(ratio "$HPR" "$HBR")"
printf '%-44s %12s %12s %10s\n' "start-up, $FILES files, s (cold / cached)" "$C" "$K" ""
echo
echo "targets: serving >= 1.00x nginx; hashing >= 1.40x b2sum; cached start-up < 1 s"
