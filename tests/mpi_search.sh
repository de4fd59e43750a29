#!/usr/bin/env bash
# The search under MPI (run by `make check-mpi`, which builds
# tests/lemonade-mpi with MPI=1): K = 1, 2, 3 ranks give the same files as
# one process; timing.ranks shows each rank's share; a killed worker rank
# ends the run, and the last complete generation resumes to the same files
# with and without MPI.
source "$(dirname "$0")/lib.sh"
MPI_BIN=${MPI_BIN:-tests/lemonade-mpi}
[ -x "$MPI_BIN" ] || { fail mpi_binary "$MPI_BIN missing: run make check-mpi"; finish; }
MPIRUN=("${MPIRUN:-mpirun}")  # e.g. MPIRUN=mpirun.mpich MPI_BIN=... for MPICH
"${MPIRUN[0]}" --version 2>&1 | grep -q "Open MPI" && MPIRUN+=(--oversubscribe --allow-run-as-root)
BASE=(--data data/fixture --gens 2 --accept 3 --epochs 1 --filters 4,8 --train-limit 300 --val-limit 100 --seed 5)
strip() { jq -S 'del(..|.timing?)' "$1"; }
same_run() { # NAME DIR_A DIR_B FILES... : equal once timing is deleted
    local name=$1 a=$2 b=$3 f bad=""; shift 3
    for f in "$@"; do
        [ -f "$a/$f" ] && [ -f "$b/$f" ] || { bad="$bad missing:$f"; continue; }
        cmp -s <(strip "$a/$f") <(strip "$b/$f") || bad="$bad differs:$f"
    done
    [ -z "$bad" ] && ok "$name" || fail "$name" "$bad"
}
FILES2=(gen_000.json gen_001.json gen_002.json final.json)

# The reference: one process, the default build.
$LEMONADE "${BASE[@]}" --threads 2 --out "$TMP/ref" --quiet >/dev/null 2>"$TMP/ref.err" \
    && ok single_process_run || fail single_process_run "$(tail -3 "$TMP/ref.err")"

for k in 1 2 3; do
    timeout 300 "${MPIRUN[@]}" -np $k "$MPI_BIN" "${BASE[@]}" --threads 1 --out "$TMP/np$k" --quiet \
        >"$TMP/np$k.out" 2>"$TMP/np$k.err"
    st=$?
    [ $st -eq 0 ] && ok "np${k}_exit_0" || fail "np${k}_exit_0" "exit $st: $(tail -5 "$TMP/np$k.err")"
    same_run "np${k}_equals_single_process" "$TMP/ref" "$TMP/np$k" "${FILES2[@]}"
    cmp -s <(cd "$TMP/ref/models" && md5sum *) <(cd "$TMP/np$k/models" 2>/dev/null && md5sum *) \
        && ok "np${k}_models_byte_equal" || fail "np${k}_models_byte_equal" "model files differ"
done
# The MPI build started without mpirun works alone.
timeout 300 "$MPI_BIN" "${BASE[@]}" --threads 2 --out "$TMP/alone" --quiet >/dev/null 2>"$TMP/alone.err"
same_run mpi_build_without_mpirun "$TMP/ref" "$TMP/alone" "${FILES2[@]}"
# Every rank appears in timing.ranks, and their children add up to the
# generation's networks.
check np3_timing_ranks jq -e '(.timing.ranks | length == 3 and (map(.rank) == [0,1,2]))
    and ([.timing.ranks[].children] | add) == ([.children[] | select(.accepted)] | length)
    and all(.timing.ranks[]; .busy_s >= 0)' "$TMP/np3/gen_001.json"
check np3_gen0_ranks jq -e '([.timing.ranks[].children] | add) == 2' "$TMP/np3/gen_000.json"
check np1_no_ranks jq -e '.timing | has("ranks") | not' "$TMP/np1/gen_001.json"

# Workers with several job slots, rank 0 with one: still the same files.
timeout 300 "${MPIRUN[@]}" -np 2 "$MPI_BIN" "${BASE[@]}" --threads 2 --jobs 2 --out "$TMP/jobs" --quiet \
    >/dev/null 2>"$TMP/jobs.err"
same_run np2_jobs2_equals_single_process "$TMP/ref" "$TMP/jobs" "${FILES2[@]}"

# A bad command line is reported once by rank 0 and every rank exits.
timeout 60 "${MPIRUN[@]}" -np 2 "$MPI_BIN" --gens many >"$TMP/bad.out" 2>"$TMP/bad.err"
st=$?
[ $st -ne 0 ] && [ $st -ne 124 ] && [ "$(grep -c "is not a whole number" "$TMP/bad.err")" -eq 1 ] \
    && ok np2_usage_error_exits || fail np2_usage_error_exits "exit $st: $(head -c 300 "$TMP/bad.err")"

# Ranks with different kernel tables would disagree within rounding: a
# worker whose table differs from rank 0's refuses to start.
if grep -q avx512f /proc/cpuinfo; then
    timeout 60 "${MPIRUN[@]}" -np 2 sh -c 'r=${OMPI_COMM_WORLD_RANK:-$PMI_RANK}
        [ "$r" = 1 ] && export LEMONADE_KERNELS=reference; exec "$@"' sh "$MPI_BIN" "${BASE[@]}" --out "$TMP/kern" \
        --quiet >"$TMP/kern.out" 2>"$TMP/kern.err"
    st=$?
    [ $st -ne 124 ] && grep -q "rank 1: uses the 'reference' kernels but rank 0 uses 'avx512'" "$TMP/kern.err" \
        && ok kernel_mismatch_refused || fail kernel_mismatch_refused "exit $st: $(head -c 300 "$TMP/kern.err")"
    LEMONADE_KERNELS=reference timeout 300 "${MPIRUN[@]}" -np 2 "$MPI_BIN" "${BASE[@]}" --threads 1 \
        --out "$TMP/kref" --quiet >/dev/null 2>&1
    LEMONADE_KERNELS=reference $LEMONADE "${BASE[@]}" --threads 2 --out "$TMP/kref1" --quiet >/dev/null 2>&1
    same_run np2_reference_kernels_equal "$TMP/kref1" "$TMP/kref" "${FILES2[@]}"
fi

# A worker rank killed mid-run: the run ends (no hang) with a message, and
# the last complete generation resumes to the files of an unbroken run,
# without MPI and with it.
LONG=(--data data/fixture --gens 4 --accept 3 --epochs 1 --filters 4,8 --train-limit 300 --val-limit 100 --seed 5)
FILES4=(gen_000.json gen_001.json gen_002.json gen_003.json gen_004.json final.json)
$LEMONADE "${LONG[@]}" --threads 2 --out "$TMP/lref" --quiet >/dev/null 2>&1
timeout 300 "${MPIRUN[@]}" -np 3 "$MPI_BIN" "${LONG[@]}" --out "$TMP/kill" --threads 1 --quiet \
    >"$TMP/kill.out" 2>"$TMP/kill.err" &
mp=$!
for i in $(seq 600); do [ -f "$TMP/kill/gen_001.json" ] && break; sleep 0.02; done
victim=""
for p in $(pgrep -f -- "--out $TMP/kill "); do
    tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qE '^(OMPI_COMM_WORLD_RANK|PMI_RANK)=1$' && victim=$p
done
if [ -n "$victim" ]; then
    kill -9 "$victim"
    wait $mp
    st=$?
    [ $st -ne 0 ] && [ $st -ne 124 ] && ok killed_worker_ends_run || fail killed_worker_ends_run "exit $st"
    # Open MPI: mpirun names the rank and SIGTERMs rank 0, which says how to
    # resume; MPICH's hydra SIGKILLs every rank and reports the bad exit.
    cat "$TMP/kill.err" "$TMP/kill.out" | grep -qiE "rank 1|resume|bad termination" && ok killed_worker_message \
        || fail killed_worker_message "$(head -c 300 "$TMP/kill.err")"
else
    wait $mp
    fail killed_worker_ends_run "no rank 1 process of the run found"
fi
# Open MPI with --enable-recovery keeps the job after a rank dies: rank 0
# notices the silence (LEMONADE_MPI_TIMEOUT) and ends the run itself.
if [ ${#MPIRUN[@]} -gt 1 ]; then
    timeout 120 "${MPIRUN[@]}" --enable-recovery -x LEMONADE_MPI_TIMEOUT=3 -np 3 "$MPI_BIN" "${LONG[@]}" \
        --out "$TMP/lost" --threads 1 --quiet >/dev/null 2>"$TMP/lost.err" &
    mp=$!
    for i in $(seq 600); do [ -f "$TMP/lost/gen_001.json" ] && break; sleep 0.02; done
    for p in $(pgrep -f -- "--out $TMP/lost "); do
        tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qE '^OMPI_COMM_WORLD_RANK=1$' && kill -9 "$p"
    done
    wait $mp
    st=$?
    [ $st -ne 124 ] && grep -q "rank 1, training .* has not been heard from for .* s: it died or its connection was lost" \
        "$TMP/lost.err" && ok lost_rank_detected || fail lost_rank_detected "exit $st: $(head -c 300 "$TMP/lost.err")"
    $LEMONADE --resume "$TMP/lost" --threads 2 --quiet >/dev/null 2>&1
    same_run lost_rank_run_resumes "$TMP/lref" "$TMP/lost" "${FILES4[@]}"
fi
if [ -f "$TMP/kill/gen_000.json" ]; then
    cp -r "$TMP/kill" "$TMP/kill_mpi"
    $LEMONADE --resume "$TMP/kill" --threads 2 --quiet >/dev/null 2>"$TMP/resume.err"
    same_run killed_resumes_without_mpi "$TMP/lref" "$TMP/kill" "${FILES4[@]}"
    timeout 300 "${MPIRUN[@]}" -np 2 "$MPI_BIN" --resume "$TMP/kill_mpi" --threads 1 --quiet >/dev/null 2>&1
    same_run killed_resumes_with_mpi "$TMP/lref" "$TMP/kill_mpi" "${FILES4[@]}"
else
    fail killed_resumes "no complete generation on disk"
fi
finish
