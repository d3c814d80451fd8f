// Runs `mla-lab ARGS` (the binary next to the tests) and returns its exit status and its
// stdout and stderr together; -1 when it did not exit normally.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

#include <catch2/catch.hpp>

namespace mla::test {

struct CliOut {
    int status = -1;
    std::string text;
};

inline CliOut run_cli(const std::string& args) {
    CliOut r;
    FILE* p = ::popen((std::string(MLA_BIN_DIR) + "/mla-lab " + args + " 2>&1").c_str(), "r");
    REQUIRE(p);
    std::array<char, 4096> buf{};
    size_t n = 0;
    while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.text.append(buf.data(), n);
    const int st = ::pclose(p);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return r;
}

}  // namespace mla::test
