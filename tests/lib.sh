# tests/lib.sh - helpers for the command-line tests (sourced).
# Each check prints "ok   NAME" or "FAIL NAME: why"; finish prints the
# suite's "SUITE: N passed, N failed" line and sets the exit status.
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
LEMONADE=${LEMONADE:-./lemonade}
SUITE=${SUITE:-$(basename "$0" .sh)}
TMP=${TEST_TMP:-tests/tmp}/$SUITE
rm -rf "$TMP"; mkdir -p "$TMP"
PASS=0 FAIL=0
ok()   { PASS=$((PASS + 1)); echo "ok   $1"; }
fail() { FAIL=$((FAIL + 1)); echo "FAIL $1: $2"; }

# expect_exit NAME STATUS PATTERN CMD... : CMD exits with STATUS and its
# stderr is exactly one line matching the grep -E PATTERN.
expect_exit() {
    local name=$1 want=$2 pat=$3; shift 3
    "$@" >"$TMP/out" 2>"$TMP/err"
    local got=$?
    local lines; lines=$(wc -l <"$TMP/err")
    if [ "$got" -ne "$want" ]; then fail "$name" "exit $got, expected $want ($(head -c 300 "$TMP/err"))"
    elif [ "$lines" -ne 1 ]; then fail "$name" "stderr has $lines lines, expected 1: $(head -c 300 "$TMP/err")"
    elif ! grep -qE -- "$pat" "$TMP/err"; then fail "$name" "stderr '$(cat "$TMP/err")' does not match '$pat'"
    else ok "$name"; fi
}

# check NAME CMD... : CMD succeeds (exit 0).
check() {
    local name=$1; shift
    if "$@" >"$TMP/check.out" 2>&1; then ok "$name"; else fail "$name" "$(tail -3 "$TMP/check.out")"; fi
}

finish() {
    echo "$SUITE: $PASS passed, $FAIL failed"
    [ "$FAIL" -eq 0 ]
    exit $?
}
