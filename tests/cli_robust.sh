#!/usr/bin/env bash
# Faults during a search: a full disk at every write, a diverged child,
# corrupted resume state, and a second SIGINT. (Data and flag errors, kill -9
# and single SIGINT/SIGTERM are in cli_train.sh and cli_search.sh.)
source "$(dirname "$0")/lib.sh"
COMMON=(--data data/fixture --accept 3 --epochs 1 --train-limit 300 --val-limit 100 --seed 5 --threads 2)
ARGS=("${COMMON[@]}" --gens 2 --filters 4,8)
strip() { jq -S 'del(..|.timing?)' "$1"; }
same_run() { # DIR_A DIR_B: prints what differs (nothing when equal)
    local f bad=""
    for f in gen_000.json gen_001.json gen_002.json final.json; do
        [ -f "$1/$f" ] && [ -f "$2/$f" ] || { bad="$bad missing:$f"; continue; }
        cmp -s <(strip "$1/$f") <(strip "$2/$f") || bad="$bad differs:$f"
    done
    echo "$bad"
}
# intact DIR [tmp-ok]: every JSON file parses, no temporary file is left
# (unless tmp-ok: an _exit mid-write may leave a FILE.tmp, which resume
# ignores and the next write of FILE replaces), and every model of the last
# generation's front has its .json and .bin.
intact() {
    local d=$1 f last bad=""
    for f in "$d"/*.json "$d"/models/*.json; do [ -e "$f" ] || continue; jq -e . "$f" >/dev/null 2>&1 || bad="$bad unparsable:$f"; done
    [ -n "$2" ] || for f in "$d"/*.tmp "$d"/models/*.tmp; do [ -e "$f" ] && bad="$bad left:$f"; done
    last=$(ls "$d" | grep -E '^gen_[0-9]{3}\.json$' | sort | tail -1)
    if [ -n "$last" ]; then
        for m in $(jq -r '.front[].model' "$d/$last"); do
            [ -s "$d/$m" ] && [ -s "$d/${m%.json}.bin" ] || bad="$bad no-model:$m"
        done
    fi
    echo "$bad"
}

$LEMONADE "${ARGS[@]}" --out "$TMP/ref" --quiet >/dev/null 2>"$TMP/ref.err" && ok reference_run || fail reference_run "$(cat "$TMP/ref.err")"

# ---- Full disk: the N-th file write fails with ENOSPC, for every N until a
# run no longer reaches N (19 writes: run.json, models, gen files, plots,
# final.json). Each time: one-line error, exit 1, files intact, and
# --resume (or, when run.json itself failed, the same command) finishes
# with the uninterrupted run's results.
n=1 kinds=""
while [ $n -le 60 ]; do
    d="$TMP/disk$n"
    LEMONADE_FAULT_WRITE=$n $LEMONADE "${ARGS[@]}" --out "$d" --quiet >/dev/null 2>"$TMP/disk.err"
    st=$?
    [ $st -eq 0 ] && break
    lines=$(wc -l <"$TMP/disk.err")
    if [ $st -ne 1 ] || [ "$lines" -ne 1 ] || ! grep -qE "^lemonade: $d/.*: write failed: No space left on device" "$TMP/disk.err"; then
        fail "enospc_write_${n}_error" "exit $st, $lines lines: $(head -c 300 "$TMP/disk.err")"; n=$((n + 1)); continue
    fi
    file=$(sed -E "s|^lemonade: $d/([^:]*):.*|\1|" "$TMP/disk.err")
    kinds="$kinds $file"
    bad=$(intact "$d")
    [ -z "$bad" ] && ok "enospc_write_${n}_${file//\//_}_intact" || fail "enospc_write_${n}_intact" "$bad"
    if [ -f "$d/run.json" ]; then
        $LEMONADE --resume "$d" --quiet >/dev/null 2>"$TMP/disk_resume.err"
    else  # nothing was written: the directory is empty and may be reused
        $LEMONADE "${ARGS[@]}" --out "$d" --quiet >/dev/null 2>"$TMP/disk_resume.err"
    fi
    st=$?
    diff=$(same_run "$TMP/ref" "$d")
    [ $st -eq 0 ] && [ -z "$diff" ] && ok "enospc_write_${n}_resume_agrees" \
        || fail "enospc_write_${n}_resume_agrees" "exit $st $(head -c 200 "$TMP/disk_resume.err") $diff"
    rm -rf "$d"
    n=$((n + 1))
done
[ $n -gt 15 ] && ok "enospc_covered_$((n - 1))_writes" || fail enospc_covered "only $((n - 1)) writes before a clean run"
for k in run.json models/g0_c0.bin models/g0_c0.json gen_000.json front.svg hypervolume.svg gen_002.json final.json; do
    [[ " $kinds " == *" $k "* ]] || fail "enospc_hit_$k" "no fault landed on $k (write order changed?)"
done

# An output directory that cannot be created: a one-line error, exit 1.
: >"$TMP/afile"
expect_exit out_parent_is_file 1 "$TMP/afile/run: cannot create directory: Not a directory" \
    $LEMONADE "${ARGS[@]}" --out "$TMP/afile/run"
expect_exit out_in_proc 1 "/proc/lemonade-test: cannot create directory" $LEMONADE "${ARGS[@]}" --out /proc/lemonade-test

# ---- A child whose loss is NaN (LEMONADE_FAULT_NAN=ID poisons its weights):
# marked diverged, no place in any front, the run goes on and exits 0.
LEMONADE_FAULT_NAN=g1_c1 $LEMONADE "${ARGS[@]}" --out "$TMP/nan" --quiet >/dev/null 2>"$TMP/nan.err"
st=$?
[ $st -eq 0 ] && ok nan_child_run_exit_0 || fail nan_child_run_exit_0 "exit $st: $(head -c 300 "$TMP/nan.err")"
check nan_child_marked_diverged jq -e '.children[] | select(.id == "g1_c1") | .accepted and .diverged == true and (has("val_loss") | not)' "$TMP/nan/gen_001.json"
check nan_child_not_in_any_front bash -c "! cat $TMP/nan/gen_00{1,2}.json $TMP/nan/final.json | jq -e 'select(.front | any(.id == \"g1_c1\"))' >/dev/null"
check nan_child_no_offspring jq -e 'all(.children[]; .parent != "g1_c1")' "$TMP/nan/gen_002.json"
check nan_other_children_trained jq -e '[.children[] | select(.accepted and (.diverged | not)) | .val_loss | isnormal] | length == 2' "$TMP/nan/gen_001.json"
# Every initial network diverged: nothing to search from, a clear error.
expect_exit nan_all_initial 1 "every initial network diverged" env LEMONADE_FAULT_NAN=g0_c0 \
    $LEMONADE "${COMMON[@]}" --gens 2 --filters 4 --out "$TMP/nan0" --quiet

# ---- Corrupted resume state: a one-line error naming the file, exit 1,
# never a crash. Each case corrupts a copy of a run stopped after gen 1.
base="$TMP/base"
$LEMONADE "${COMMON[@]}" --gens 1 --filters 4,8 --out "$base" --quiet >/dev/null 2>&1 && [ -f "$base/gen_001.json" ] \
    && ok base_run_gens_1 || fail base_run_gens_1 "no $base/gen_001.json"
model=$(jq -r '.front[0].model' "$base/gen_001.json")
corrupt() { # NAME FILE(relative) HOW PATTERN
    local name=$1 f=$2 how=$3 pat=$4 d="$TMP/c_$1"
    rm -rf "$d"; cp -r "$base" "$d"
    case $how in
        truncate) head -c $(( $(stat -c %s "$d/$f") / 2 )) "$d/$f" >"$d/x" && mv "$d/x" "$d/$f" ;;
        empty)    : >"$d/$f" ;;
        garbage)  LC_ALL=C awk 'BEGIN { srand(7); for (i = 0; i < 3000; i++) printf "%c", int(rand() * 255) + 1 }' >"$d/$f" ;;
        trailing) printf '}garbage' >>"$d/$f" ;;
        flip)     printf '\x55' | dd of="$d/$f" bs=1 seek=$(( $(stat -c %s "$d/$f") / 2 )) conv=notrunc status=none ;;
        missing)  rm "$d/$f" ;;
        *)        printf '%s' "$how" >"$d/$f" ;;   # literal content
    esac
    expect_exit "corrupt_$name" 1 "$pat" $LEMONADE --resume "$d" --gens 2 --quiet
}
corrupt gen_truncated gen_001.json truncate "gen_001.json: not valid JSON"
corrupt gen_empty gen_001.json empty "gen_001.json: not valid JSON"
corrupt gen_garbage gen_001.json garbage "gen_001.json: not valid JSON"
corrupt gen_trailing_garbage gen_001.json trailing "gen_001.json: not valid JSON"
corrupt gen_front_not_array gen_001.json '{"generation": 1, "front": 3}' "gen_001.json: \"front\" is not a non-empty array"
corrupt gen_front_empty gen_001.json '{"generation": 1, "front": []}' "gen_001.json: \"front\" is not a non-empty array"
corrupt gen_entry_no_id gen_001.json '{"front": [{"model": "models/x.json", "lineage": []}]}' "gen_001.json: front entry 0 lacks"
corrupt gen_born_huge gen_001.json '{"front": [{"id": "a", "model": "models/x.json", "lineage": [], "born": 1e300, "val_loss": 1, "val_acc": 0, "epochs": 1, "best_epoch": 1}]}' "gen_001.json: front entry 0 has .*out of range"
corrupt gen_model_escapes gen_001.json '{"front": [{"id": "a", "model": "../../x.json", "lineage": []}]}' "gen_001.json: front entry 0 lacks"
corrupt run_truncated run.json truncate "run.json: not valid JSON"
corrupt run_garbage run.json garbage "run.json: not valid JSON"
corrupt run_trailing run.json trailing "run.json: not valid JSON"
corrupt run_missing run.json missing "run.json: cannot open"
corrupt run_no_options run.json '{"seed": "5"}' "run.json: missing"
corrupt run_gens_huge run.json "$(jq -c '.options.gens = 1e300' "$base/run.json")" "run.json: option values out of range"
corrupt model_json_truncated "$model" truncate "${model}: not valid JSON"
corrupt model_json_garbage "$model" garbage "${model}: not valid JSON"
corrupt model_json_trailing "$model" trailing "${model}: not valid JSON"
corrupt model_json_missing "$model" missing "${model}: cannot open"
corrupt model_json_bad_layer "$model" "$(jq -c '.nodes[1].type = "lstm"' "$base/$model")" "${model}: node 1 has unknown type"
corrupt model_bin_truncated "${model%.json}.bin" truncate "${model%.json}.bin: truncated"
corrupt model_bin_flipped "${model%.json}.bin" flip "${model%.json}.bin: CRC-32 mismatch"
corrupt model_bin_garbage "${model%.json}.bin" garbage "${model%.json}.bin: (not a lemonade weights file|truncated)"
corrupt model_bin_missing "${model%.json}.bin" missing "${model%.json}.bin: cannot open"
# The newest gen file corrupt: the error names it; deleting it resumes from
# the generation before (whose models are never deleted) to the same end.
d="$TMP/c_gen_truncated"
rm "$d/gen_001.json"
$LEMONADE --resume "$d" --gens 2 --quiet >/dev/null 2>&1
diff=$(same_run "$TMP/ref" "$d")
[ -z "$diff" ] && ok corrupt_newest_gen_removed_resume_agrees || fail corrupt_newest_gen_removed_resume_agrees "$diff"

# A damaged final.json of a finished run: resume writes it again.
d="$TMP/c_final"; rm -rf "$d"; cp -r "$TMP/ref" "$d"
head -c 100 "$TMP/ref/final.json" >"$d/final.json"
$LEMONADE --resume "$d" --quiet >/dev/null 2>"$TMP/final.err"; st=$?
diff=$(same_run "$TMP/ref" "$d")
[ $st -eq 0 ] && [ -z "$diff" ] && ok corrupt_final_rewritten_by_resume || fail corrupt_final_rewritten_by_resume "exit $st $diff $(cat "$TMP/final.err")"

# ---- A second SIGINT exits at once (130) without corrupting anything;
# resume then finishes as an uninterrupted run. The two signals race the
# safe-point stop, so both exits are accepted; the check is that files stay
# intact whichever path ran. Tried at three points.
for delay in 0 0.2 0.5; do
    d="$TMP/int2_$delay"
    $LEMONADE "${ARGS[@]}" --out "$d" --quiet >/dev/null 2>"$TMP/int2.err" &
    pid=$!
    for i in $(seq 200); do [ -f "$d/gen_000.json" ] && break; sleep 0.02; done
    sleep "$delay"
    kill -INT "$pid" 2>/dev/null; sleep 0.001; kill -INT "$pid" 2>/dev/null
    wait "$pid"; st=$?
    grep -q "stopped by SIGINT" "$TMP/int2.err" && path="safe-point stop" || path="immediate _exit"
    echo "#    second SIGINT after ${delay}s: exit $st, $path"
    bad=$(intact "$d" tmp-ok)
    if [ $st -eq 130 ] || { [ $st -eq 0 ] && [ -f "$d/final.json" ]; }; then
        [ -z "$bad" ] && ok "sigint_twice_${delay}_intact" || fail "sigint_twice_${delay}_intact" "$bad"
    else
        fail "sigint_twice_${delay}_intact" "exit $st: $(head -c 300 "$TMP/int2.err")"
    fi
    $LEMONADE --resume "$d" --quiet >/dev/null 2>&1
    diff=$(same_run "$TMP/ref" "$d")
    [ -z "$diff" ] && ok "sigint_twice_${delay}_resume_agrees" || fail "sigint_twice_${delay}_resume_agrees" "$diff"
done
finish
