#pragma once
// The values `rustlog bench` sends: --values letters (random lowercase
// letters, --value-bytes each) or access-log (generated web access-log
// lines of about 200 bytes, each different, the same sequence for a seed):
// the workload compression is measured with (docs/PERFORMANCE.md).
#include <cstdint>
#include <random>
#include <string>

namespace rustlog::cli {

class BenchValues {
 public:
  // kind: "letters" or "access-log" (checked by the command line).
  BenchValues(const std::string& kind, uint32_t value_bytes, uint64_t seed);
  // The next value; letters: always the same one.
  const std::string& next();

 private:
  bool lines_;
  std::mt19937_64 rng_;
  uint64_t n_ = 0;
  std::string value_;
};

}  // namespace rustlog::cli
