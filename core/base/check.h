// Programmer mistakes: an assert that stays on in release builds and names file and line.
// It throws std::logic_error (core never calls exit or abort).
#pragma once

#include <stdexcept>
#include <string>

#define MLA_CHECK(cond)                                                                              \
    do {                                                                                             \
        if (!(cond))                                                                                 \
            throw std::logic_error(std::string(__FILE__) + ":" + std::to_string(__LINE__) +          \
                                   ": check failed: " #cond);                                        \
    } while (0)
