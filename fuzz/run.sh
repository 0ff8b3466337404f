#!/usr/bin/env bash
# Run the cargo-fuzz targets for a bounded time each and keep what they learn.
#
#   fuzz/run.sh                    every target, 600 s each
#   FUZZ_SECS=60 fuzz/run.sh ami_codec sip_message
#
# Each target's corpus lives in the repository (fuzz/corpus/<target>/) so that a run
# starts where the last one stopped; the real-world captures in tests/captures/ are
# read as extra seeds. After the run the corpus is minimised (cargo fuzz cmin) so the
# repository keeps only inputs that add coverage. A crash stops the script with the
# reproducer in fuzz/artifacts/<target>/ (`cargo fuzz run <target> <file>` replays it).
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`) and no nightly toolchain:
# RUSTC_BOOTSTRAP=1 lets the stable compiler take the sanitizer flags.
# One line per target goes to stdout: target, seconds, executions, corpus size.
set -euo pipefail
cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1
secs=${FUZZ_SECS:-600}

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz is not installed: cargo install cargo-fuzz" >&2
    exit 2
fi

if [ $# -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo fuzz list)
fi

# Real captures that seed each family of targets.
seeds_for() {
    case "$1" in
        # The BER corpus is annotated hex; its binary form is in corpus/csta_ber.
        csta_ber) ;;
        csta_*) echo ../tests/captures/csta ;;
        ami_*) echo ../tests/captures/ami ;;
        sip_*) echo ../tests/captures/sip ;;
        smdr_custom) echo ../tests/captures/smdr/custom ;;
        smdr_framing) echo ../tests/captures/smdr ;;
        smdr_*)
            local dir="../tests/captures/smdr/${1#smdr_}"
            dir=${dir//_/-}
            [ -d "$dir" ] && echo "$dir"
            ;;
    esac
}

cargo fuzz build
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target"
    seeds=()
    while read -r dir; do
        [ -n "$dir" ] && seeds+=("$dir")
    done < <(seeds_for "$target")
    log=$(mktemp)
    if ! cargo fuzz run "$target" "corpus/$target" ${seeds[@]+"${seeds[@]}"} -- \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        >"$log" 2>&1; then
        tail -40 "$log" >&2
        echo "$target: FAILED, reproducer in fuzz/artifacts/$target/" >&2
        rm -f "$log"
        exit 1
    fi
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    rm -f "$log"
    cargo fuzz cmin "$target" "corpus/$target" >/dev/null 2>&1 || true
    echo "$target: ${secs} s, ${runs} executions, $(find "corpus/$target" -type f | wc -l) corpus inputs, no crash"
done
