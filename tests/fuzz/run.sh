#!/bin/sh
# run.sh SECONDS BUILD TARGET... : runs each libFuzzer target for SECONDS,
# seeded from corpus/<target>/, and prints one line per target.
# With FUZZ_RUNS=N in the environment each target runs N executions instead
# (no time limit): make run FUZZ_RUNS=1000000.
# Exits non-zero when any target crashed or broke an invariant.
secs=$1 build=$2
shift 2
mkdir -p "$build/logs" "$build/crashes"
status=0
if [ -n "$FUZZ_RUNS" ]; then
    limit="-runs=$FUZZ_RUNS"
else
    limit="-max_total_time=$secs"
fi
for t in "$@"; do
    mkdir -p "$build/corpus/$t"
    log="$build/logs/$t.log"
    start=$(date +%s)
    "$build/fuzz_$t" $limit -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$build/crashes/$t-" \
        "$build/corpus/$t" "corpus/$t" >"$log" 2>&1
    rc=$?
    took=$(( $(date +%s) - start ))
    runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -n 1)
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1)
    ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -n 1)
    if [ "$rc" -eq 0 ]; then
        echo "fuzz_$t: ok, ${runs:-?} runs in ${took}s, ${cov:-cov: ?}, ${ft:-ft: ?}"
    else
        status=1
        echo "fuzz_$t: FAILED (exit status $rc), log $log"
        grep -E 'INVARIANT BROKEN|ERROR: (AddressSanitizer|libFuzzer)|runtime error|Test unit written' \
            "$log" | head -n 5 | sed 's/^/    /'
        grep -A1 'INVARIANT BROKEN' "$log" | tail -n 1 | sed 's/^/    /'
    fi
done
exit $status
