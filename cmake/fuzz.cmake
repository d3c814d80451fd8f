# libFuzzer targets for every reader that takes outside bytes (tests/fuzz/fuzz_*.cpp), with
# -DMLA_FUZZ=ON and clang. Included at the end of CMakeLists.txt; the whole tree is compiled
# with -fsanitize=fuzzer-no-link there (before the libraries, so the readers give coverage),
# and the fuzz executables link -fsanitize=fuzzer here. Use with -DMLA_SANITIZE=ON:
#
#   CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
#       -DMLA_SANITIZE=ON -DMLA_FUZZ=ON -DMLA_NATIVE=ON
#   cmake --build build-fuzz --target fuzzers
#   ctest --test-dir build-fuzz -L fuzz        # each target MLA_FUZZ_SECONDS on its seeds
#   scripts/fuzz.sh 600                        # longer runs, a summary, crashes kept
#
# Test fuzz:<target> runs the target on a copy of tests/fuzz/corpus/<target> (the seeds in
# the repository are never written) with tests/fuzz/json.dict; a crash, leak, timeout or
# out-of-memory fails it and leaves the input in <build>/fuzz-artifacts/<target>/.
#
# This file is also the script those tests run (cmake -P, the block just below).

if(CMAKE_SCRIPT_MODE_FILE)
  # cmake -DFUZZER=exe -DSEEDS=dir -DDICT=file -DWORK=dir -DARTIFACTS=dir -DSECONDS=n -P fuzz.cmake
  foreach(v FUZZER SEEDS DICT WORK ARTIFACTS SECONDS)
    if(NOT DEFINED ${v})
      message(FATAL_ERROR "fuzz.cmake: -D${v}=... is missing")
    endif()
  endforeach()
  file(REMOVE_RECURSE "${WORK}")
  file(MAKE_DIRECTORY "${WORK}/corpus" "${WORK}/tmp" "${ARTIFACTS}")
  file(GLOB seeds "${SEEDS}/*")
  if(seeds)
    file(COPY ${seeds} DESTINATION "${WORK}/corpus")
  endif()
  set(ENV{TMPDIR} "${WORK}/tmp")  # the targets' temporary folders, removed below
  execute_process(
    COMMAND "${FUZZER}" -max_total_time=${SECONDS} -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
            "-dict=${DICT}" "-artifact_prefix=${ARTIFACTS}/" "${WORK}/corpus"
    RESULT_VARIABLE rc)
  file(REMOVE_RECURSE "${WORK}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${FUZZER} failed (${rc}); the input is in ${ARTIFACTS}/")
  endif()
  return()
endif()

if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "MLA_FUZZ needs clang (libFuzzer): configure with CC=clang CXX=clang++ "
                      "(or -DCMAKE_CXX_COMPILER=clang++) in a fresh build folder")
endif()
if(NOT MLA_SANITIZE)
  message(WARNING "MLA_FUZZ without MLA_SANITIZE: only crashes and exceptions are found, not the "
                  "memory errors and undefined behaviour they hide; add -DMLA_SANITIZE=ON")
endif()

set(MLA_FUZZ_SECONDS 30 CACHE STRING "Seconds each fuzz:<target> test fuzzes for")

set(MLA_FUZZ_TARGETS fuzz_safetensors fuzz_config fuzz_model_folder fuzz_lesson fuzz_train fuzz_tokenizer)
set(fuzz_libs_fuzz_safetensors mla_io)
set(fuzz_libs_fuzz_config mla_model mla_curves)
set(fuzz_libs_fuzz_model_folder mla_io)
set(fuzz_libs_fuzz_lesson mla_lesson)
set(fuzz_libs_fuzz_train mla_train)
set(fuzz_libs_fuzz_tokenizer mla_io)
if(MLA_BUILD_APP)
  list(APPEND MLA_FUZZ_TARGETS fuzz_settings)
  set(fuzz_libs_fuzz_settings mla_window mla_session)  # ui_settings.h; lesson_state.h
else()
  message(STATUS "MLA_FUZZ: fuzz_settings needs the app's libraries (MLA_BUILD_APP=ON); not built")
endif()

add_custom_target(fuzzers)
foreach(t IN LISTS MLA_FUZZ_TARGETS)
  add_executable(${t} ${CMAKE_SOURCE_DIR}/tests/fuzz/${t}.cpp)
  target_include_directories(${t} PRIVATE ${CMAKE_SOURCE_DIR}/tests)  # "fuzz/fuzz_common.h"
  target_link_libraries(${t} PRIVATE ${fuzz_libs_${t}})
  target_link_options(${t} PRIVATE -fsanitize=fuzzer)
  mla_target_options(${t})
  add_dependencies(fuzzers ${t})

  add_test(NAME fuzz:${t}
           COMMAND ${CMAKE_COMMAND} -DFUZZER=$<TARGET_FILE:${t}>
                   -DSEEDS=${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/${t}
                   -DDICT=${CMAKE_SOURCE_DIR}/tests/fuzz/json.dict
                   -DWORK=${CMAKE_BINARY_DIR}/fuzz-work/${t}
                   -DARTIFACTS=${CMAKE_BINARY_DIR}/fuzz-artifacts/${t}
                   -DSECONDS=${MLA_FUZZ_SECONDS}
                   -P ${CMAKE_SOURCE_DIR}/cmake/fuzz.cmake)
  math(EXPR fuzz_timeout "${MLA_FUZZ_SECONDS} + 120")
  set_tests_properties(fuzz:${t} PROPERTIES TIMEOUT ${fuzz_timeout} LABELS fuzz)
endforeach()
