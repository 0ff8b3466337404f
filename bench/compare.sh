#!/bin/sh
# Fan-out of `ctibridge bench` against a reference broadcaster, measured in the same
# run on the same machine (absolute figures move on a shared machine; the ratio holds).
#
#   bench/compare.sh PATH/TO/bench-ceiling [SECS]
#
# PATH/TO/bench-ceiling: the reference (a minimal tokio-tungstenite fan-out server and
# client; not part of this repository). It is copied and built in $TMPDIR. ctibridge is
# taken from $CTIBRIDGE, else target/release/ctibridge (build it first:
# `cargo build --release -p ctibridge`). Needs python3 to read the JSON.
set -eu
src=${1:?usage: bench/compare.sh PATH/TO/bench-ceiling [SECS]}
secs=${2:-8}
tmp=${TMPDIR:-/tmp}
ctibridge=${CTIBRIDGE:-target/release/ctibridge}
port=${CEILING_PORT:-9300}

[ -x "$ctibridge" ] || { echo "no $ctibridge: cargo build --release -p ctibridge" >&2; exit 2; }
rm -rf "$tmp/bench-ceiling-src"
cp -r "$src" "$tmp/bench-ceiling-src"
CARGO_TARGET_DIR="$tmp/bench-ceiling" cargo build --quiet --release \
    --manifest-path "$tmp/bench-ceiling-src/Cargo.toml"
b="$tmp/bench-ceiling/release"

# The reference: 100 clients, as fast as back-pressure allows.
"$b/ceiling-server" --port "$port" --clients 100 --secs $((secs + 2)) --rate 0 >/dev/null &
server=$!
sleep 1
ceiling=$("$b/ceiling-client" --url "ws://127.0.0.1:$port/" --conns 100 --secs "$secs" --server-pid "$server")
wait "$server" || true

# ctibridge: the standard load (100 agent clients + 2 supervisors), CSTA source at max.
ours=$("$ctibridge" bench --adapter csta --clients 100 --supervisors 2 --rate max --secs "$secs")
# ctibridge with the reference's fan-out: 100 clients that each see every event
# (supervisors), so both send every event to every client.
wide=$("$ctibridge" bench --adapter csta --clients 0 --supervisors 100 --rate max --secs "$secs")

echo "ceiling:              $ceiling"
echo "ctibridge standard:   $ours"
echo "ctibridge 100 × all:  $wide"
python3 - "$ceiling" "$ours" "$wide" <<'PY'
import json, sys
ceiling, ours, wide = (json.loads(a) for a in sys.argv[1:4])
for name, run in (("standard load", ours), ("100 clients × every event", wide)):
    frames = run["frames_per_s"] / max(ceiling["frames_per_s"], 1)
    events = run["events_per_s"] / max(ceiling["events_per_s"], 1)
    print(f"{name}: frames/s ctibridge {run['frames_per_s']:.0f} / ceiling "
          f"{ceiling['frames_per_s']:.0f} = {frames:.3f}; events/s {run['events_per_s']:.0f} / "
          f"{ceiling['events_per_s']:.0f} = {events:.3f}; dropped {run['dropped']}")
PY
