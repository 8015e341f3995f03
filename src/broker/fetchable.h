#pragma once
// Every record that can be acknowledged can be fetched: before a batch is
// appended, the broker checks that a fetch answer can carry it within
// max_frame_bytes — the FetchEx answer holding the whole batch (a fetch
// always returns its first batch whole) and the v0 Fetch answer holding any
// one of its records (a v0 fetch always returns its first record).
// (docs/PROTOCOL.md, "Record size limits".)
#include <cstdint>
#include <string_view>

#include "common/status.h"
#include "storage/record_view.h"

namespace rustlog {

// The answer sizes of one batch, record by record.
class FetchableCounter {
 public:
  FetchableCounter();
  void add(const RecordView& r);
  // 413 (kTooLarge) naming the sizes when a fetch could not return the
  // records added; ok otherwise.
  Status check(uint32_t record_count, uint32_t max_frame_bytes) const;

 private:
  uint64_t fetch_ex_;
  uint64_t largest_value_ = 0;
};

// `batch` is one whole, valid batch the broker built (not compressed). 413
// (kTooLarge) naming the sizes when a fetch could not return it.
Status check_fetchable(std::string_view batch, uint32_t record_count, uint32_t max_frame_bytes);

}  // namespace rustlog
