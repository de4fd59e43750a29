#!/usr/bin/env bash
# lemonade plot: SVG output of the sample run, interrupted runs, bad runs and
# bad flags.
source "$(dirname "$0")/lib.sh"

SAMPLE=tests/data/sample_run
series() { grep -o 'class="front" data-generation="[0-9]*"' "$1" | sed 's/.*="//; s/"//' | paste -sd, -; }

# Default: OUT/front.svg and OUT/hypervolume.svg, well-formed, every
# generation of a 4-generation run, no external content.
cp -r "$SAMPLE" "$TMP/run"
if $LEMONADE plot "$TMP/run" >"$TMP/out" 2>"$TMP/err" && [ ! -s "$TMP/err" ] \
   && [ -s "$TMP/run/front.svg" ] && [ -s "$TMP/run/hypervolume.svg" ]; then ok plot_default_writes
else fail plot_default_writes "$(cat "$TMP/out" "$TMP/err")"; fi
check plot_front_xmllint xmllint --noout "$TMP/run/front.svg"
check plot_hv_xmllint xmllint --noout "$TMP/run/hypervolume.svg"
[ "$(series "$TMP/run/front.svg")" = "0,1,2,3" ] && ok plot_default_series \
    || fail plot_default_series "series $(series "$TMP/run/front.svg")"
if grep -qE '<script|href=|@import|url\(http' "$TMP/run/front.svg" "$TMP/run/hypervolume.svg"; then
    fail plot_standalone "external reference in the SVG"
else ok plot_standalone; fi
[ "$(grep -c '<circle' "$TMP/run/hypervolume.svg")" -eq 4 ] && ok plot_hv_points \
    || fail plot_hv_points "$(grep -c '<circle' "$TMP/run/hypervolume.svg") points"
ls "$TMP/run" | grep -q '\.tmp$' && fail plot_no_tmp_left "$(ls "$TMP/run")" || ok plot_no_tmp_left

# --gens and -o: one series per requested generation, in the named file.
$LEMONADE plot "$TMP/run" --gens 3,1 -o "$TMP/f13.svg" >"$TMP/out" 2>&1
if [ $? -eq 0 ] && xmllint --noout "$TMP/f13.svg" 2>/dev/null && [ "$(series "$TMP/f13.svg")" = "1,3" ]; then
    ok plot_gens_output
else fail plot_gens_output "$(cat "$TMP/out"; series "$TMP/f13.svg")"; fi
$LEMONADE plot "$TMP/run" --gens=2 --output "$TMP/f2.svg" --hv-output "$TMP/hv2.svg" >"$TMP/out" 2>&1
[ "$(series "$TMP/f2.svg")" = "2" ] && xmllint --noout "$TMP/hv2.svg" 2>/dev/null && ok plot_long_options \
    || fail plot_long_options "$(cat "$TMP/out")"
grep -q '>g3_c4</text>' "$TMP/run/front.svg" && ok plot_labels_newest || fail plot_labels_newest "no g3_c4 label"

# An interrupted run: only gen_000 and gen_001.
mkdir -p "$TMP/short"; cp "$SAMPLE/gen_000.json" "$SAMPLE/gen_001.json" "$TMP/short/"
if $LEMONADE plot "$TMP/short" >/dev/null 2>&1 && [ "$(series "$TMP/short/front.svg")" = "0,1" ]; then
    ok plot_interrupted_run
else fail plot_interrupted_run "series $(series "$TMP/short/front.svg")"; fi

# Bad runs: exit 1, one line naming the problem.
expect_exit plot_missing_dir 1 "$TMP/nope: no such directory" $LEMONADE plot "$TMP/nope"
mkdir -p "$TMP/empty"
expect_exit plot_no_gen_files 1 "no gen_000.json" $LEMONADE plot "$TMP/empty"
expect_exit plot_missing_gen 1 "no generation 7 \(the run has gen_000..gen_003\)" \
    $LEMONADE plot "$TMP/run" --gens 1,7
mkdir -p "$TMP/corrupt"; cp "$SAMPLE"/gen_00[01].json "$TMP/corrupt/"
head -c 300 "$SAMPLE/gen_002.json" >"$TMP/corrupt/gen_002.json"
expect_exit plot_corrupt_json 1 "corrupt/gen_002.json: invalid JSON" $LEMONADE plot "$TMP/corrupt"
[ ! -e "$TMP/corrupt/front.svg" ] && ok plot_corrupt_writes_nothing || fail plot_corrupt_writes_nothing "front.svg written"
mkdir -p "$TMP/nofield"; cp "$SAMPLE/gen_000.json" "$TMP/nofield/"
jq 'del(.front[1].val_loss)' "$SAMPLE/gen_001.json" >"$TMP/nofield/gen_001.json"
expect_exit plot_missing_field 1 "nofield/gen_001.json: front\[1\] \(g1_c0\): missing 'val_loss'" \
    $LEMONADE plot "$TMP/nofield"
cp "$TMP/run/front.svg" "$TMP/front.before"
expect_exit plot_disk_full 1 "front.svg: write failed: No space left on device" \
    env LEMONADE_FAULT_WRITE=1 $LEMONADE plot "$TMP/run" --gens 2
cmp -s "$TMP/front.before" "$TMP/run/front.svg" && [ ! -e "$TMP/run/front.svg.tmp" ] && ok plot_disk_full_keeps_old \
    || fail plot_disk_full_keeps_old "front.svg changed or .tmp left"
expect_exit plot_unwritable_output 1 "$TMP/nodir/f.svg.tmp: cannot create: No such file" $LEMONADE plot "$TMP/run" -o "$TMP/nodir/f.svg"

# Bad flags: exit 2, one line with a hint to --help.
expect_exit plot_gens_not_number 2 "--gens: 'x' is not a whole number.*--help" $LEMONADE plot "$TMP/run" --gens 1,x
expect_exit plot_gens_negative 2 "--gens: '-1' is not a whole number" $LEMONADE plot "$TMP/run" --gens -1
expect_exit plot_gens_trailing_comma 2 "--gens: trailing comma" $LEMONADE plot "$TMP/run" --gens 1,2,
expect_exit plot_gens_empty 2 "--gens: empty value" $LEMONADE plot "$TMP/run" --gens ""
expect_exit plot_no_dir 2 "which run\?.*--help" $LEMONADE plot
expect_exit plot_two_dirs 2 "unexpected argument 'b'" $LEMONADE plot a b
expect_exit plot_unknown_flag 2 "unknown option '--gen'" $LEMONADE plot "$TMP/run" --gen 1
expect_exit plot_o_needs_value 2 "--output needs a value" $LEMONADE plot "$TMP/run" -o
$LEMONADE plot --help | grep -q "lemonade plot runs/" && ok plot_help_example || fail plot_help_example "no example"
finish
