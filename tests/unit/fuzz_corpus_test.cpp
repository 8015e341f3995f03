// Every seed and regression input of the fuzz targets (tests/fuzz/corpus,
// tests/fuzz/regressions) through its target, in the ordinary builds: the
// invariants the libFuzzer runs check (tests/fuzz/*_targets.h) hold for
// them under g++ and under the asan preset too, and a crash the fuzzer once
// found stays fixed. An invariant that breaks aborts this test.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "fuzz/targets.h"

#ifndef RUSTLOG_SOURCE_DIR
#error "RUSTLOG_SOURCE_DIR must name the source tree"
#endif

namespace rustlog::fuzz {
namespace {

size_t replay(const Target& t, const std::string& folder) {
  size_t n = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(folder, ec)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    SCOPED_TRACE(e.path().string());
    t.run(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    ++n;
  }
  return n;
}

TEST(FuzzCorpusTest, EverySeedAndRegressionPassesItsTarget) {
  spdlog::set_level(spdlog::level::off);
  const std::string root = std::string(RUSTLOG_SOURCE_DIR) + "/tests/fuzz";
  for (const Target& t : kTargets) {
    SCOPED_TRACE(t.name);
    const size_t seeds = replay(t, root + "/corpus/" + t.name);
    const size_t regressions = replay(t, root + "/regressions/" + t.name);
    EXPECT_GE(seeds, 2u) << "target " << t.name << " has no seed corpus";
    std::printf("fuzz target %s: %zu seeds, %zu regression inputs replayed\n", t.name, seeds, regressions);
  }
}

}  // namespace
}  // namespace rustlog::fuzz
