#!/usr/bin/env bash
# lemonade bench: JSON shape, the text table, bad flags.
source "$(dirname "$0")/lib.sh"

# --json: one object with the agreed keys, one entry per requested arch.
if $LEMONADE bench --arch E16,D8 --steps 1 --threads 2 --json >"$TMP/b.json" 2>"$TMP/b.err" \
   && jq -e '(.peak_gflops > 0) and (.threads == 2) and (.kernel | type == "string")
             and ([.archs[].arch] == ["E16","D8"])
             and all(.archs[]; .train_img_per_s > 0 and .infer_img_per_s > 0 and .gflops > 0
                     and .peak_fraction > 0 and (.breakdown_ms | has("conv_fwd") and has("adam")))' \
        "$TMP/b.json" >/dev/null; then ok bench_json
else fail bench_json "$(head -c 400 "$TMP/b.json" "$TMP/b.err")"; fi

# The table: the peak line, then a row for the arch.
if $LEMONADE bench --arch E16 --steps 1 >"$TMP/b.txt" 2>/dev/null \
   && grep -qE '^kernels: [a-z0-9]+ +threads: [0-9]+ +measured FMA peak: [0-9.]+ GFLOP/s' "$TMP/b.txt" \
   && grep -qE '^E16 +[0-9]+ +[0-9]+ ' "$TMP/b.txt"; then ok bench_table
else fail bench_table "$(cat "$TMP/b.txt")"; fi

# The reference kernels can be forced.
LEMONADE_KERNELS=reference $LEMONADE bench --arch E16 --steps 1 --json 2>/dev/null | jq -e '.kernel == "reference"' >/dev/null \
    && ok bench_forced_reference || fail bench_forced_reference "kernel is not reference"

expect_exit bench_unknown_arch 2 "--arch: unknown architecture 'Z9'.*--help" $LEMONADE bench --arch A64,Z9
expect_exit bench_bad_steps 2 "--steps: 0 is out of range" $LEMONADE bench --steps 0
expect_exit bench_unknown_flag 2 "--help" $LEMONADE bench --fast
$LEMONADE bench --help | grep -q -- "--json" && ok bench_help || fail bench_help "no --json in help"
# --search times a small search end to end and leaves no directory behind.
before=$(ls -d /tmp/lemonade-bench-* 2>/dev/null | wc -l)
$LEMONADE bench --arch E16 --steps 2 --threads 2 --search --data data/fixture --json >"$TMP/search.json" 2>"$TMP/search.err"
after=$(ls -d /tmp/lemonade-bench-* 2>/dev/null | wc -l)
jq -e '.search_seconds > 0' "$TMP/search.json" >/dev/null && [ "$before" -eq "$after" ] \
    && ok bench_search_end_to_end || fail bench_search_end_to_end "$(cat "$TMP/search.err") dirs $before -> $after"
expect_exit bench_search_bad_data 1 "--data $TMP/none: no such directory" $LEMONADE bench --arch E16 --steps 1 --search --data "$TMP/none"
finish
