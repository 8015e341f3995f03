#pragma once
// The values `rustlog bench` sends: --values letters (random lowercase
// letters, --value-bytes each) or access-log (generated web access-log
// lines of about 200 bytes, the same sequence for a seed): the workload
// compression is measured with (docs/PERFORMANCE.md). The lines are made
// when the values are constructed, before the run is timed, and sent in
// turn (kPoolLines of them, then again from the first), as Kafka's
// producer-perf-test sends payloads read beforehand: the run measures the
// producer, not the generator. A batch holds far fewer records than the
// pool, so no line repeats within one.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace rustlog::cli {

class BenchValues {
 public:
  // kind: "letters" or "access-log" (checked by the command line).
  BenchValues(const std::string& kind, uint32_t value_bytes, uint64_t seed);
  // The next value; letters: always the same one.
  const std::string& next();
  static constexpr size_t kPoolLines = 1 << 16;

 private:
  std::string line(std::mt19937_64& rng, uint64_t n) const;
  std::vector<std::string> pool_;  // access-log: the lines, in order
  size_t n_ = 0;
  std::string value_;  // letters
};

}  // namespace rustlog::cli
