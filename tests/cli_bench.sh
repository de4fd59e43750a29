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
finish
