#!/usr/bin/env bash
# Fuzzes every reader that takes outside bytes (tests/fuzz, cmake/fuzz.cmake) with libFuzzer.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
#   SECONDS  how long each target runs (default 600)
#   TARGET   fuzz_safetensors fuzz_config fuzz_model_folder fuzz_lesson fuzz_settings fuzz_train
#            (default: all of them, one after the other)
#
# Configures and builds build-fuzz with clang, AddressSanitizer + UBSan and libFuzzer, then
# runs each target on a copy of its seeds (tests/fuzz/corpus/TARGET; the repository's seeds
# are never written) with tests/fuzz/json.dict. For each it prints libFuzzer's last stats line
# (execs, cov, ft, corpus). Inputs that crash, leak, time out (10 s) or run out of memory
# (2 GB) are kept in build-fuzz/fuzz-artifacts/TARGET/ (crash-*, leak-*, timeout-*, oom-*),
# with the target's log beside them; the script then exits 1.
#
# Environment: BUILD (default build-fuzz), JOBS (default nproc), KEEP_CORPUS=1 keeps the
# grown corpus in build-fuzz/fuzz-corpus/TARGET for the next run (it is then read again).
#
# To reproduce one input: build-fuzz/bin/TARGET build-fuzz/fuzz-artifacts/TARGET/crash-...
# (with MLA_FUZZ_VERBOSE=1 a target also prints each InputError it catches).
set -euo pipefail
cd "$(dirname "$0")/.."

ALL=(fuzz_safetensors fuzz_config fuzz_model_folder fuzz_lesson fuzz_settings fuzz_train)
seconds=600
if [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then
  seconds=$1
  shift
fi
targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=("${ALL[@]}")
for t in "${targets[@]}"; do
  [[ " ${ALL[*]} " == *" $t "* ]] || { echo "fuzz.sh: unknown target '$t' (${ALL[*]})" >&2; exit 2; }
done

build=${BUILD:-build-fuzz}
jobs=${JOBS:-$(nproc)}
echo "== configure and build $build (clang, ASan + UBSan, libFuzzer)"
mkdir -p "$build"
CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMLA_SANITIZE=ON -DMLA_FUZZ=ON \
  -DMLA_NATIVE=ON > "$build/configure.log" 2>&1 || { cat "$build/configure.log"; exit 1; }
cmake --build "$build" -j"$jobs" --target "${targets[@]}"

failed=()
for t in "${targets[@]}"; do
  art="$build/fuzz-artifacts/$t"
  work="$build/fuzz-work/$t"
  rm -rf "$work"
  mkdir -p "$art" "$work/tmp"
  if [[ ${KEEP_CORPUS:-0} == 1 ]]; then
    corpus="$build/fuzz-corpus/$t"
  else
    corpus="$work/corpus"
  fi
  mkdir -p "$corpus"
  cp -r "tests/fuzz/corpus/$t/." "$corpus/"
  log="$art/fuzz.log"
  touch "$work/start"
  echo "== $t: $seconds s (log: $log)"
  rc=0
  TMPDIR="$(cd "$work/tmp" && pwd)" "$build/bin/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -dict=tests/fuzz/json.dict -artifact_prefix="$art/" "$corpus" > "$log" 2>&1 || rc=$?
  new=$(find "$art" -maxdepth 1 -type f -newer "$work/start" \( -name 'crash-*' -o -name 'leak-*' \
         -o -name 'timeout-*' -o -name 'oom-*' \) | sort)
  rm -rf "$work"
  stats=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
  execs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}' || true)
  echo "   ${stats:-no stats line} (execs ${execs:-?})"
  if [[ $rc -ne 0 || -n $new ]]; then
    failed+=("$t")
    echo "   FOUND (exit $rc): $(grep -m1 -E 'ERROR: libFuzzer|ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error|terminate called' "$log" || true)"
    [[ -z $new ]] || sed 's/^/   input: /' <<< "$new"
    grep -m1 'what():' "$log" | sed 's/^ */   /' || true
    # the first frames in the project's own files (function names cut at 100 characters)
    grep -E "^ +#[0-9]+ .* $PWD/" "$log" | grep -v ' in LLVMFuzzerTestOneInput \| fuzz::' | head -n 6 \
      | awk '{ f = $4; for (i = 5; i < NF; i++) f = f " " $i; if (length(f) > 100) f = substr(f, 1, 100) "...";
               printf "   %s %s %s\n", $1, f, $NF }' || true
    grep -m1 -E " in LLVMFuzzerTestOneInput " "$log" | awk '{ printf "   %s %s %s\n", $1, $4, $NF }' || true
  fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "== found something in: ${failed[*]} (inputs and logs in $build/fuzz-artifacts/)"
  exit 1
fi
echo "== nothing found in ${targets[*]}"
