#pragma once
// Every fuzz target, by name: the libFuzzer binaries (fuzz_main.cpp, one per
// target, built by the `fuzz` preset) and the replay test
// (tests/unit/fuzz_corpus_test.cpp, every seed and regression input through
// every target in the ordinary builds) share this table.
#include <cstddef>
#include <cstdint>

#include "fuzz/codec_targets.h"
#include "fuzz/config_targets.h"
#include "fuzz/protocol_targets.h"
#include "fuzz/storage_targets.h"

namespace rustlog::fuzz {

struct Target {
  const char* name;  // the corpus folder tests/fuzz/corpus/<name> and the binary fuzz_<name>
  int (*run)(const uint8_t*, size_t);
};

inline constexpr Target kTargets[] = {
    {"messages", fuzz_messages},
    {"frames", fuzz_frames},
    {"batch", fuzz_batch},
    {"batch_scanner", fuzz_batch_scanner},
    {"batch_lz4", fuzz_batch_lz4},
    {"batch_zstd", fuzz_batch_zstd},
    {"index", fuzz_index},
    {"segment_recovery", fuzz_segment_recovery},
    {"toml_config", fuzz_toml_config},
    {"prometheus_text", fuzz_prometheus_text},
};

}  // namespace rustlog::fuzz
