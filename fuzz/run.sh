#!/usr/bin/env bash
# Run one fuzz target: seeds from the captures (if found), then libFuzzer
# with the committed corpus and seeds as read-only inputs; new inputs go to
# work/<target>/, crashes to artifacts/<target>/ (both ignored by git).
#   fuzz/run.sh TARGET [SECONDS] [extra libFuzzer flags...]
# e.g. fuzz/run.sh adapter_gemini 600, or the long run:
#   nice -n 19 fuzz/run.sh adapter_gemini 0 -runs=10000000
set -euo pipefail
cd "$(dirname "$0")"
target=${1:?usage: run.sh TARGET [SECONDS] [libFuzzer flags]}
secs=${2:-300}
shift $(( $# >= 2 ? 2 : 1 ))
[ -d "seeds/$target" ] || cargo run --quiet --release --example seeds
mkdir -p "work/$target" "artifacts/$target" "seeds/$target"
time_flag=()
[ "$secs" != 0 ] && time_flag=("-max_total_time=$secs")
exec cargo +nightly fuzz run --sanitizer none --fuzz-dir . "$target" \
  "work/$target" "corpus/$target" "seeds/$target" -- \
  -max_len=131072 -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
  -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
  -artifact_prefix="artifacts/$target/" -print_final_stats=1 \
  "${time_flag[@]}" "$@"
