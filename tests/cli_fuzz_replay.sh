#!/usr/bin/env bash
# Replay every fuzz seed and every input a fuzzer ever crashed on
# (tests/fuzz/corpus/NAME, tests/fuzz/regress/NAME) through the harnesses,
# built without libFuzzer (BUILD_DIR/replay_NAME; under ASan in check-asan).
source "$(dirname "$0")/lib.sh"
B=${BUILD_DIR:-build}
for h in idx model genfile; do
    files=(tests/fuzz/corpus/$h/* tests/fuzz/regress/$h/*)
    files=($(for f in "${files[@]}"; do [ -f "$f" ] && echo "$f"; done))
    if [ ! -x "$B/replay_$h" ]; then fail "replay_$h" "$B/replay_$h not built"; continue; fi
    check "replay_${h}_${#files[@]}_inputs" "$B/replay_$h" "${files[@]}"
done
finish
