#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: the whole suite under xvfb-run
# (GL tests need a display; Mesa's llvmpipe gives OpenGL 4.5), then the core tests again
# built with AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

echo "== all tests (Release) under xvfb-run"
# A GL context can fail to come up once when two test processes start at the same moment on
# Xvfb; a failing test is run once more before it counts.
MLA_REQUIRE_GL=1 xvfb-run -a -s "-screen 0 1920x1200x24" ctest --test-dir build --output-on-failure -j2 --timeout 900 \
  --repeat until-pass:2

echo "== core tests under AddressSanitizer + UndefinedBehaviorSanitizer"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMLA_SANITIZE=ON -DMLA_BUILD_APP=OFF \
      -DMLA_NATIVE="${MLA_NATIVE:-ON}" > build-asan-configure.log 2>&1 || { cat build-asan-configure.log; exit 1; }
cmake --build build-asan -j"$(nproc)" --target core_tests
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --test-dir build-asan --output-on-failure -j2 --timeout 900
