#pragma once
// Helpers for compaction tests: keyed batches, compacting log configs, and
// reading a (sparse) log back as records, checking what every reader of a
// cleaned log must see: whole batches, offsets strictly increasing.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "storage/log_cleaner.h"
#include "support/log_helpers.h"

namespace rustlog::test {

struct KV {
  std::optional<std::string> key;
  std::optional<std::string> value;  // nullopt: a tombstone
};

inline std::string keyed_batch(const std::vector<KV>& kvs, int64_t ts = kBaseTimestampUs) {
  BatchBuilder b(0);
  for (const auto& kv : kvs) b.add(ts, kv.key, kv.value, {});
  return b.finish();
}

// Segments of `segment_bytes`, compaction on with ratio 0 (any dirty byte
// is cleanable), no lag, tombstones kept one day after the clean.
inline LogConfig compact_config(uint64_t segment_bytes = 1024, uint32_t index_interval = 128) {
  LogConfig c = small_config(segment_bytes, index_interval);
  c.compaction.enabled = true;
  c.compaction.min_cleanable_dirty_ratio = 0;
  c.segment_ms = 3600ll * 1000;
  return c;
}

// Every record from the log start to the high watermark, read in pieces of
// at most `max_bytes` (each read still returns its first batch whole).
inline std::vector<Record> read_records(PartitionLog& log, size_t max_bytes = 4096) {
  std::vector<Record> out;
  uint64_t off = log.log_start_offset();
  while (off < log.high_watermark()) {
    auto r = log.read(off, max_bytes);
    if (!r) {
      ADD_FAILURE() << "read at " << off << ": " << r.status().to_string();
      break;
    }
    if (r->next_offset <= off) {
      ADD_FAILURE() << "read at " << off << " made no progress (next " << r->next_offset << ")";
      break;
    }
    std::vector<Record> recs;
    Status st = decode_batches(r->data, off, &recs);
    if (!st) {
      ADD_FAILURE() << st.to_string();
      break;
    }
    for (auto& rec : recs) {
      if (!out.empty() && rec.offset <= out.back().offset)
        ADD_FAILURE() << "offset " << rec.offset << " after " << out.back().offset;
      out.push_back(std::move(rec));
    }
    off = r->next_offset;
  }
  return out;
}

// The last record of each key (keyless records are not listed).
inline std::map<std::string, Record> last_per_key(const std::vector<Record>& recs) {
  std::map<std::string, Record> m;
  for (const auto& r : recs)
    if (r.key) m[*r.key] = r;
  return m;
}

// Fills a log with `rounds` rounds of `keys` keys (values "v<round>"), one
// record per batch, rolling every few batches; the log ends with an active
// segment holding at least one batch.
inline void fill_keys(PartitionLog& log, int keys, int rounds, int64_t now_us = kBaseTimestampUs) {
  for (int r = 0; r < rounds; ++r)
    for (int k = 0; k < keys; ++k)
      append_batch(log, keyed_batch({{"k" + std::to_string(k), "v" + std::to_string(r) + std::string(40, 'x')}}),
                   nullptr, now_us);
}

}  // namespace rustlog::test
