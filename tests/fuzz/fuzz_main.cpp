// One libFuzzer binary per target: RUSTLOG_FUZZ_TARGET names its entry in
// targets.h (set by tests/fuzz/CMakeLists.txt).
#include <spdlog/spdlog.h>

#include "fuzz/targets.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);  // recovery logs every truncation
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return rustlog::fuzz::RUSTLOG_FUZZ_TARGET(data, size);
}
