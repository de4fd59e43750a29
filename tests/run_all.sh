#!/usr/bin/env bash
# Run every test: the C unit tests and the command-line tests. Prints a
# closing line "N passed, N failed" and exits non-zero on any failure.
cd "$(dirname "$0")/.." || exit 2
passed=0 failed=0
count() { # parse "…: N passed, M failed" from a suite's output
    local line
    line=$(grep -E '^[a-z_]+: [0-9]+ passed, [0-9]+ failed' "$1" | tail -1)
    if [ -z "$line" ]; then failed=$((failed + 1)); echo "suite $2 printed no result line"; return; fi
    passed=$((passed + $(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')))
    failed=$((failed + $(echo "$line" | sed -E 's/.*passed, ([0-9]+) failed.*/\1/')))
}
# RUN_UNIT, LEMONADE and TEST_TMP select another build (make check-asan).
RUN_UNIT=${RUN_UNIT:-./tests/run_unit}
export TEST_TMP=${TEST_TMP:-tests/tmp}
export BUILD_DIR=${BUILD_DIR:-build}
mkdir -p "$TEST_TMP"
"$RUN_UNIT" | tee "$TEST_TMP/unit.log"
count "$TEST_TMP/unit.log" unit
for t in tests/cli_*.sh; do
    [ -e "$t" ] || continue
    name=$(basename "$t" .sh)
    bash "$t" | tee "$TEST_TMP/$name.log"
    count "$TEST_TMP/$name.log" "$name"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
