#pragma once
// Helpers around PartitionLog for tests: an in-memory model of what was
// appended (the linear-scan oracle), opening with failure reporting, and
// reading ranges back as whole batches.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storage/log_config.h"
#include "storage/partition_log.h"
#include "storage/record_batch.h"
#include "support/record_gen.h"
#include "support/temp_dir.h"

namespace rustlog::test {

// Recovery logs every truncation and corruption; tests that cause thousands
// of them keep the output readable. RUSTLOG_TEST_LOG=1 turns logging back on.
inline const bool kQuietStorageLogs = [] {
  const char* env = std::getenv("RUSTLOG_TEST_LOG");
  if (!env || std::string(env) != "1") spdlog::set_level(spdlog::level::off);
  return true;
}();

inline LogConfig small_config(uint64_t segment_bytes = 16 * 1024, uint32_t index_interval = 512) {
  LogConfig c;
  c.segment_bytes = segment_bytes;
  c.index_interval_bytes = index_interval;
  return c;
}

struct ModelBatch {
  uint64_t base = 0;
  uint64_t last = 0;
  std::string bytes;  // as stored: base offset rewritten by the log
  std::vector<Record> records;
};

// What a correct log holds: every appended batch in order (offsets dense).
class LogModel {
 public:
  void add(std::string bytes) {
    ModelBatch b;
    BatchHeader h;
    EXPECT_TRUE(
        decode_batch(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &h, &b.records)
            .is_ok());
    b.base = h.base_offset;
    b.last = h.last_offset();
    b.bytes = std::move(bytes);
    batches_.push_back(std::move(b));
  }
  void truncate(size_t n) { batches_.resize(n); }
  const std::vector<ModelBatch>& batches() const { return batches_; }
  size_t size() const { return batches_.size(); }
  const ModelBatch& operator[](size_t i) const { return batches_[i]; }
  uint64_t end_offset() const { return batches_.empty() ? 0 : batches_.back().last + 1; }

  // Index of the batch holding `offset` (linear scan).
  size_t batch_index_of(uint64_t offset) const {
    for (size_t i = 0; i < batches_.size(); ++i)
      if (batches_[i].base <= offset && offset <= batches_[i].last) return i;
    return batches_.size();
  }
  // First offset with timestamp >= ts, or end_offset() (linear scan).
  uint64_t offset_for_time(int64_t ts) const {
    for (const auto& b : batches_)
      for (const auto& r : b.records)
        if (r.timestamp_us >= ts) return r.offset;
    return end_offset();
  }
  std::vector<Record> all_records() const {
    std::vector<Record> out;
    for (const auto& b : batches_) out.insert(out.end(), b.records.begin(), b.records.end());
    return out;
  }
  std::string bytes_between(size_t first, size_t end) const {
    std::string out;
    for (size_t i = first; i < end; ++i) out += batches_[i].bytes;
    return out;
  }

 private:
  std::vector<ModelBatch> batches_;
};

// The timestamp for the next batch appended to `m`'s log: 1 ms per offset
// after kBaseTimestampUs, so timestamps grow with offsets.
inline int64_t ts_for(const LogModel& m) {
  return kBaseTimestampUs + static_cast<int64_t>(m.end_offset()) * 1000;
}

inline std::unique_ptr<PartitionLog> open_log(const std::string& dir, const LogConfig& cfg,
                                              uint64_t recovery_point) {
  auto r = PartitionLog::open(dir, cfg, recovery_point);
  if (!r) {
    ADD_FAILURE() << "open " << dir << " failed: " << r.status().to_string();
    return nullptr;
  }
  return std::move(*r);
}

// Appends `batch` and records the stored bytes in `model` (when given).
inline AppendInfo append_batch(PartitionLog& log, std::string batch, LogModel* model,
                               int64_t now_us = kBaseTimestampUs) {
  auto r = log.append(batch, now_us);
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  if (!r) return {};
  if (model) model->add(batch);
  return *r;
}

// Splits a buffer of whole batches; fails the test on a partial batch.
inline std::vector<std::string> split_batches(std::string_view data) {
  std::vector<std::string> out;
  while (!data.empty()) {
    BatchHeader h;
    if (parse_batch_header(reinterpret_cast<const uint8_t*>(data.data()), data.size(), &h) !=
        BatchError::kOk) {
      ADD_FAILURE() << "buffer does not hold whole batches (" << data.size() << " bytes left)";
      break;
    }
    out.emplace_back(data.substr(0, h.total_size()));
    data.remove_prefix(h.total_size());
  }
  return out;
}

// Reads [from, high watermark) batch by batch; returns the concatenated bytes.
inline std::string read_to_end(PartitionLog& log, uint64_t from, size_t max_bytes = 64 * 1024) {
  std::string out;
  uint64_t off = from;
  while (off < log.high_watermark()) {
    auto r = log.read(off, max_bytes);
    if (!r) {
      ADD_FAILURE() << "read at " << off << ": " << r.status().to_string();
      break;
    }
    if (r->data.empty() || r->next_offset <= off) {
      ADD_FAILURE() << "read at " << off << " made no progress";
      break;
    }
    out += r->data;
    off = r->next_offset;
  }
  return out;
}

// Byte offset of batch `i` within its segment file, from the model
// (segments are listed by base offset; a batch lives in the last segment
// whose base <= its base offset).
struct BatchPlace {
  size_t segment = 0;     // index in log.segments()
  uint64_t position = 0;  // byte position in the segment's .log
};
inline BatchPlace place_of(const PartitionLog& log, const LogModel& m, size_t i) {
  BatchPlace p;
  const auto& segs = log.segments();
  for (size_t s = 0; s < segs.size(); ++s)
    if (segs[s]->base_offset() <= m[i].base) p.segment = s;
  const uint64_t seg_base = segs[p.segment]->base_offset();
  for (size_t k = 0; k < i; ++k)
    if (m[k].base >= seg_base) p.position += m[k].bytes.size();
  return p;
}

}  // namespace rustlog::test
