#!/usr/bin/env bash
# tests/fuzz/run.sh [SECONDS] [HARNESS...] - builds the libFuzzer harnesses (tests/fuzz/fuzz_*.c)
# with clang-14 + ASan + UBSan in build-fuzz/ and runs each for SECONDS (default 60), one
# process at a time, on a scratch copy of its committed seeds (tests/fuzz/corpus/NAME, where
# NAME is the harness name without "fuzz_" and "_deep"), so the repository is not touched.
# SECONDS 0 only replays the seeds once (npm test does that: quick and deterministic).
# Prints executions and coverage per harness; exits 1 if any harness crashed, leaked, broke a
# contract, timed out or ran out of memory (the reproducer is in build-fuzz/work/H/).
#
# Environment: FUZZ_MAX_LEN (largest input, default 16384), FUZZ_ARGS (more libFuzzer flags),
# FUZZ_KEEP=1 (keep the grown corpus of an earlier run instead of starting from the seeds).
set -euo pipefail
cd "$(dirname "$0")/../.."

secs=${1:-60}
shift || true
if [ $# -gt 0 ]; then
  harnesses=("$@")
else
  harnesses=()
  for f in tests/fuzz/fuzz_*.c; do harnesses+=("$(basename "$f" .c)"); done
fi

cc=${FUZZ_CC:-clang-14}
command -v "$cc" >/dev/null || { echo "fuzz: $cc not found (npm run setup installs clang-14)" >&2; exit 2; }

echo "== fuzz: building ${harnesses[*]} (build-fuzz)"
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=Debug -DMDSREC_SANITIZE=ON \
  -DMDSREC_WASM=OFF -DMDSREC_FUZZ=ON -DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link >/dev/null
cmake --build build-fuzz -j "$(nproc)" --target "${harnesses[@]}" >/dev/null

scratch=/tmp
if [ -d /dev/shm ] && [ -w /dev/shm ]; then scratch=/dev/shm; fi
failed=0
summary=()
for h in "${harnesses[@]}"; do
  name=${h#fuzz_}
  name=${name%_deep}
  seeds=tests/fuzz/corpus/$name
  # the seed replay (npm test) has its own scratch, so it never clobbers a long run's corpus
  work=build-fuzz/$([ "$secs" = 0 ] && echo replay || echo work)/$h
  if [ "${FUZZ_KEEP:-0}" != 1 ] || [ ! -d "$work/corpus" ]; then
    rm -rf "$work"
    mkdir -p "$work/corpus"
    if [ -d "$seeds" ]; then cp "$seeds"/* "$work/corpus/"; fi
  fi
  mkdir -p "$work/artifacts"
  dict=()
  if [ -f "tests/fuzz/$name.dict" ]; then dict=(-dict="tests/fuzz/$name.dict"); fi
  if [ "$secs" = 0 ]; then length=(-runs=0); else length=(-max_total_time="$secs"); fi
  what="for ${secs}s"
  if [ "$secs" = 0 ]; then what="replaying the seeds"; fi
  echo "== fuzz: $h $what ($(ls "$work/corpus" | wc -l) inputs to start)"
  rc=0
  # ASan's leak check runs at exit and on each new input; UBSan stops at the first report.
  # -close_fd_mask=2: the importers' error messages would flood the log (libFuzzer and the
  # sanitizers keep reporting on a copy of stderr). The scratch input files go to /dev/shm.
  TMPDIR=$scratch ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "build-fuzz/fuzz/$h" "${length[@]}" -max_len="${FUZZ_MAX_LEN:-16384}" -timeout=20 \
    -rss_limit_mb=2560 -close_fd_mask=2 -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
    "${dict[@]}" ${FUZZ_ARGS:-} "$work/corpus" >"$work/log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
  cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$work/log" | tail -1)
  corp=$(grep -o 'corp: [0-9]*/[0-9]*[a-zA-Z]*' "$work/log" | tail -1)
  if [ "$rc" != 0 ]; then
    failed=1
    echo "!! fuzz: $h FAILED (exit $rc); log $work/log, reproducer in $work/artifacts/:"
    ls "$work/artifacts" | sed 's/^/   /'
    grep -m1 -E 'ERROR: |runtime error|contract broken|SUMMARY' "$work/log" | sed 's/^/   /' || true
  fi
  summary+=("$(printf '%-20s %-6s %12s execs  %-22s %s' "$h" "$([ "$rc" = 0 ] && echo ok || echo FAIL)" "${execs:-?}" "${cov:-cov: ?}" "${corp:-}")")
done

echo "== fuzz: summary (${secs}s each)"
printf '%s\n' "${summary[@]}" | tee build-fuzz/summary.txt
exit "$failed"
