#!/usr/bin/env bash
# The search end to end on the fixture: files, front, models, determinism
# across runs, threads and jobs, and kill/resume.
source "$(dirname "$0")/lib.sh"
BASE=(--data data/fixture --gens 2 --accept 3 --epochs 1 --filters 4,8 --train-limit 300 --val-limit 100)
ARGS=("${BASE[@]}" --seed 5)
strip() { jq -S 'del(..|.timing?)' "$1"; }
same_run() { # NAME DIR_A DIR_B : gen files and final.json equal once timing is deleted
    local name=$1 a=$2 b=$3 f bad=""
    for f in gen_000.json gen_001.json gen_002.json final.json; do
        [ -f "$a/$f" ] && [ -f "$b/$f" ] || { bad="$bad missing:$f"; continue; }
        cmp -s <(strip "$a/$f") <(strip "$b/$f") || bad="$bad differs:$f"
    done
    [ -z "$bad" ] && ok "$name" || fail "$name" "$bad"
}

$LEMONADE "${ARGS[@]}" --threads 2 --out "$TMP/a" >"$TMP/a.out" 2>"$TMP/a.err"
[ $? -eq 0 ] && ok search_exit_0 || fail search_exit_0 "$(tail -3 "$TMP/a.err")"
check files_parse bash -c "for f in $TMP/a/run.json $TMP/a/gen_00{0,1,2}.json $TMP/a/final.json; do jq -e . \$f >/dev/null || exit 1; done"
check run_json_records jq -e '.options.gens == 2 and .options.accept == 3 and .options.filters == [4,8] and .seed == "5" and (.command | test("--gens 2"))' "$TMP/a/run.json"
check gen_schema jq -e '.generation == 2 and (.hypervolume | type == "number") and (.front | length > 0)
    and all(.front[]; has("id") and has("parent") and has("operator") and has("born") and has("params")
        and has("trainable_params") and has("macs") and has("val_loss") and has("val_acc") and has("epochs")
        and has("layers") and has("model"))
    and all(.children[]; has("id") and has("parent") and has("operator") and has("params") and has("density")
        and has("accept_prob") and has("accepted"))
    and ([.children[] | select(.accepted)] | length) == 3
    and all(.children[] | select(.accepted); has("val_loss") or .diverged)' "$TMP/a/gen_002.json"
check accept_probs_sum_to_1 jq -e '[.children[].accept_prob] | add | . > 0.999999 and . < 1.000001' "$TMP/a/gen_001.json"
check front_sorted_nondominated jq -e '.front as $f | ($f | map(.params) == (map(.params) | sort))
    and all(range(0; $f|length) as $i | range(0; $f|length) as $j | select($i != $j) | [$f[$i], $f[$j]];
        (.[1].params <= .[0].params and .[1].val_loss <= .[0].val_loss
         and (.[1].params < .[0].params or .[1].val_loss < .[0].val_loss)) | not)' "$TMP/a/gen_002.json"
check final_has_test jq -e 'all(.front[]; (.test_acc | type == "number") and (.test_loss | type == "number"))' "$TMP/a/final.json"
check no_clock_outside_timing bash -c "! jq -r 'del(..|.timing?) | paths | map(tostring) | join(\".\")' $TMP/a/gen_002.json | grep -qiE 'second|img_per_s|time'"
grep -q "final front after 2 generations" "$TMP/a.out" && ok final_table_on_stdout || fail final_table_on_stdout "$(cat "$TMP/a.out")"

# Every front model loads and reproduces its recorded val_loss.
bad=""
for row in $(jq -r '.front[] | "\(.model)=\(.val_loss)"' "$TMP/a/gen_002.json"); do
    model=${row%%=*} want=${row#*=}
    got=$($LEMONADE train --data data/fixture --train-limit 300 --val-limit 100 --model "$TMP/a/$model" --epochs 0 2>/dev/null | awk '/^val_loss/ {print $2}')
    awk -v a="$got" -v b="$want" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && d <= 1e-9 * (b < 0 ? -b : b) + 1e-12) }' \
        || bad="$bad $model:$got!=$want"
done
[ -z "$bad" ] && ok front_models_reproduce_val_loss || fail front_models_reproduce_val_loss "$bad"

# Same seed: same files; also with one thread and with jobs/threads mixed.
$LEMONADE "${ARGS[@]}" --threads 2 --out "$TMP/b" --quiet >/dev/null 2>&1
same_run two_runs_agree "$TMP/a" "$TMP/b"
$LEMONADE "${ARGS[@]}" --threads 1 --out "$TMP/c" --quiet >/dev/null 2>&1
same_run threads_1_vs_2_agree "$TMP/a" "$TMP/c"
$LEMONADE "${ARGS[@]}" --threads 2 --jobs 1 --out "$TMP/d" --quiet >/dev/null 2>&1
same_run one_job_two_threads_agrees "$TMP/a" "$TMP/d"
$LEMONADE "${BASE[@]}" --seed 6 --threads 2 --out "$TMP/e" --quiet >/dev/null 2>&1
cmp -s <(strip "$TMP/a/gen_002.json") <(strip "$TMP/e/gen_002.json") && fail other_seed_differs "seed 6 = seed 5" || ok other_seed_differs

# Killed (SIGKILL) mid-run at a few points, then resumed: same files.
for delay in 0.3 0.8 1.5; do
    rm -rf "$TMP/k"
    $LEMONADE "${ARGS[@]}" --threads 2 --out "$TMP/k" --quiet >/dev/null 2>&1 &
    pid=$!
    sleep "$delay"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    if [ -f "$TMP/k/gen_000.json" ]; then
        $LEMONADE --resume "$TMP/k" --quiet >/dev/null 2>"$TMP/k.err"
    else  # killed before the first generation was complete: nothing to resume
        rm -rf "$TMP/k"; $LEMONADE "${ARGS[@]}" --threads 2 --out "$TMP/k" --quiet >/dev/null 2>&1
    fi
    same_run "kill9_after_${delay}s_resume_agrees" "$TMP/a" "$TMP/k"
done
# SIGINT stops at a safe point with 130, SIGTERM with 143; resume completes.
# These runs are longer (5 generations) so that the signal lands mid-run.
SARGS=(--data data/fixture --gens 5 --accept 3 --epochs 1 --filters 4,8 --train-limit 300 --val-limit 100 --seed 5)
$LEMONADE "${SARGS[@]}" --threads 2 --out "$TMP/sref" --quiet >/dev/null 2>&1
same_run_5() { local a=$1 b=$2 f bad=""
    for f in gen_000.json gen_003.json gen_005.json final.json; do
        cmp -s <(strip "$a/$f") <(strip "$b/$f") || bad="$bad $f"; done; echo "$bad"; }
rm -rf "$TMP/s"
$LEMONADE "${SARGS[@]}" --threads 2 --out "$TMP/s" --quiet >/dev/null 2>"$TMP/s.err" &
pid=$!
for i in $(seq 100); do [ -f "$TMP/s/gen_000.json" ] && break; sleep 0.05; done
kill -INT "$pid"; wait "$pid"; st=$?
[ "$st" -eq 130 ] && grep -q "lemonade --resume" "$TMP/s.err" && ok sigint_exit_130 || fail sigint_exit_130 "exit $st: $(cat "$TMP/s.err")"
$LEMONADE --resume "$TMP/s" --quiet >/dev/null 2>&1
d=$(same_run_5 "$TMP/sref" "$TMP/s"); [ -z "$d" ] && ok sigint_resume_agrees || fail sigint_resume_agrees "differ:$d"
rm -rf "$TMP/t"
$LEMONADE "${SARGS[@]}" --threads 2 --out "$TMP/t" --quiet >/dev/null 2>&1 &
pid=$!
for i in $(seq 100); do [ -f "$TMP/t/gen_000.json" ] && break; sleep 0.05; done
kill -TERM "$pid"; wait "$pid"; st=$?
[ "$st" -eq 143 ] && ok sigterm_exit_143 || fail sigterm_exit_143 "exit $st"
$LEMONADE --resume "$TMP/t" --quiet >/dev/null 2>&1
d=$(same_run_5 "$TMP/sref" "$TMP/t"); [ -z "$d" ] && ok sigterm_resume_agrees || fail sigterm_resume_agrees "differ:$d"

# Command-line and output-directory errors.
expect_exit out_existing_run 2 "holds an earlier run; continue it with --resume" $LEMONADE "${ARGS[@]}" --out "$TMP/a"
mkdir -p "$TMP/full"; touch "$TMP/full/x"
expect_exit out_not_empty 2 "is not empty" $LEMONADE "${ARGS[@]}" --out "$TMP/full"
expect_exit resume_conflict 2 "--filters 4,8,16 conflicts" $LEMONADE --resume "$TMP/a" --filters 4,8,16
expect_exit resume_nothing 1 "run.json: cannot open" $LEMONADE --resume "$TMP/full"
expect_exit gens_not_number 2 "--gens: 'many' is not a whole number.*--help" $LEMONADE --gens many
expect_exit accept_zero 2 "--accept: 0 is out of range" $LEMONADE --accept 0
expect_exit filters_bad 2 "--filters: 'x' is not a whole number" $LEMONADE --filters 4,x
expect_exit kde_bad 2 "--kde-space: 'cubic'" $LEMONADE --kde-space cubic
expect_exit unknown_option 2 "unknown option '--generations'" $LEMONADE --generations 3
$LEMONADE --resume "$TMP/a" >/dev/null 2>"$TMP/done.err"; st=$?
[ $st -eq 0 ] && grep -q "is complete" "$TMP/done.err" && ok resume_complete_run || fail resume_complete_run "exit $st"
# --resume may extend a finished run.
cp -r "$TMP/a" "$TMP/ext"
$LEMONADE --resume "$TMP/ext" --gens 3 --quiet >/dev/null 2>&1 && [ -f "$TMP/ext/gen_003.json" ] \
    && jq -e '.generation == 3' "$TMP/ext/final.json" >/dev/null && ok resume_extends_gens || fail resume_extends_gens "no gen_003"
$LEMONADE --help | grep -q -- "--kde-space" && ok search_help || fail search_help "no --kde-space"
finish
