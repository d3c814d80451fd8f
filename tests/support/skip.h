// A test that cannot run here says so: it prints "MLA_TEST_SKIPPED: <why>", which CTest's
// SKIP_REGULAR_EXPRESSION turns into "Skipped" (not "Passed"). With MLA_REQUIRE_GL=1 in the
// environment (scripts/test.sh sets it under xvfb-run) a skip is a failure instead, so a
// run that should have had a display cannot go green without GL coverage.
#pragma once

#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace mla::testing {

inline void skip(const std::string& why) {
    const char* req = std::getenv("MLA_REQUIRE_GL");
    if (req && *req && std::string(req) != "0") FAIL("GL test could not run, but MLA_REQUIRE_GL is set: " << why);
    std::printf("MLA_TEST_SKIPPED: %s\n", why.c_str());
    std::fflush(stdout);
}

}  // namespace mla::testing
