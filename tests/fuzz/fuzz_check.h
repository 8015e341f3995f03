#pragma once
// What a fuzz target does when an invariant breaks: print it and abort, which
// libFuzzer reports as a crash (saving the input) and a replay test as a
// failed test.
#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond, what)                                                              \
  do {                                                                                      \
    if (!(cond)) {                                                                          \
      std::fprintf(stderr, "fuzz invariant broken at %s:%d: %s (%s)\n", __FILE__, __LINE__, \
                   what, #cond);                                                            \
      std::abort();                                                                         \
    }                                                                                       \
  } while (0)
