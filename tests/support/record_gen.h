#pragma once
// Seeded random records and batches. Every generator takes an explicit seed
// (std::mt19937_64) so a failure can be replayed; tests print the seed with
// SCOPED_TRACE(seed_trace(seed)).
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "common/record.h"
#include "storage/record_batch.h"

namespace rustlog::test {

inline std::string seed_trace(uint64_t seed) { return "seed=" + std::to_string(seed); }

struct GenOptions {
  size_t max_records = 8;  // records per batch: 1..max_records
  size_t max_key = 24;
  size_t max_value = 200;
  size_t max_headers = 2;
  int null_key_pct = 20;
  int empty_key_pct = 10;
  int null_value_pct = 10;
  int empty_value_pct = 10;
  int large_value_pct = 0;  // values of large_value_bytes
  size_t large_value_bytes = 1 << 20;
  int64_t ts_jitter_us = 0;  // > 0: record timestamps move back and forth by up to this much
};

class RecordGen {
 public:
  explicit RecordGen(uint64_t seed, GenOptions opt = {}) : rng_(seed), opt_(opt) {}

  std::mt19937_64& rng() { return rng_; }
  const GenOptions& options() const { return opt_; }
  uint64_t uniform(uint64_t lo, uint64_t hi) {
    return std::uniform_int_distribution<uint64_t>(lo, hi)(rng_);
  }
  int64_t uniform_i(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }
  bool chance(int pct) { return static_cast<int>(uniform(0, 99)) < pct; }
  std::string bytes(size_t n) {
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng_());
    return s;
  }
  std::optional<std::string> nullable(size_t max_len, int null_pct, int empty_pct) {
    if (chance(null_pct)) return std::nullopt;
    if (chance(empty_pct)) return std::string();
    return bytes(uniform(1, max_len == 0 ? 1 : max_len));
  }

  Record record(int64_t ts) {
    Record r;
    r.timestamp_us = ts;
    r.key = nullable(opt_.max_key, opt_.null_key_pct, opt_.empty_key_pct);
    if (opt_.large_value_pct > 0 && chance(opt_.large_value_pct))
      r.value = bytes(opt_.large_value_bytes);
    else
      r.value = nullable(opt_.max_value, opt_.null_value_pct, opt_.empty_value_pct);
    const size_t nh = uniform(0, opt_.max_headers);
    for (size_t i = 0; i < nh; ++i)
      r.headers.push_back({bytes(uniform(0, 12)), bytes(uniform(0, 24))});
    return r;
  }

  // 1..max_records records; timestamps ts_base (+/- jitter when enabled).
  std::vector<Record> records(int64_t ts_base) {
    std::vector<Record> out(uniform(1, opt_.max_records));
    for (auto& r : out) {
      const int64_t j =
          opt_.ts_jitter_us > 0 ? uniform_i(-opt_.ts_jitter_us, opt_.ts_jitter_us) : 0;
      r = record(ts_base + j);
    }
    return out;
  }

 private:
  std::mt19937_64 rng_;
  GenOptions opt_;
};

// Encodes records (offsets base, base+1, ...) as one batch.
inline std::string build_batch(const std::vector<Record>& recs, uint64_t base = 0) {
  BatchBuilder b(base);
  for (const auto& r : recs) b.add(r.timestamp_us, r.key, r.value, r.headers);
  return b.finish();
}

// Records with their offsets and timestamps filled in as the log assigns them.
inline std::vector<Record> with_offsets(std::vector<Record> recs, uint64_t base) {
  for (size_t i = 0; i < recs.size(); ++i) recs[i].offset = base + i;
  return recs;
}

inline constexpr int64_t kBaseTimestampUs = 1'700'000'000'000'000;

// The batch a log filled by `seed` holds at `base_offset`: the same pair
// always yields the same bytes, so a reader can check a batch it never saw
// being written (the kill -9 test reproduces acknowledged batches this way).
inline std::string deterministic_batch(uint64_t seed, uint64_t base_offset,
                                       const GenOptions& opt = {}) {
  RecordGen g(seed * 0x9E3779B97F4A7C15ull ^ base_offset, opt);
  return build_batch(g.records(kBaseTimestampUs + static_cast<int64_t>(base_offset) * 1000),
                     base_offset);
}

}  // namespace rustlog::test
