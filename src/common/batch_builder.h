#pragma once
// Builds one record batch (docs/STORAGE.md, sections 2 and 3): the records'
// encoding, the header (common/batch_header.h) and, when asked, the records
// section compressed (common/compression.h). Byte layout only, no I/O. In
// common because three layers build batches: storage (the broker's appends,
// the cleaner), protocol and client (the Producer's compressed batches).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/compression.h"
#include "common/record.h"

namespace rustlog {

// Builds one batch. Offsets are assigned as base_offset + index unless
// add() is given an explicit offset delta (compaction keeps original offsets).
class BatchBuilder {
 public:
  explicit BatchBuilder(uint64_t base_offset = 0);
  // Before the first add(): the batch carries a delete horizon
  // (kBatchDeleteHorizonFlag; first_timestamp = horizon_us). The cleaner's.
  void set_delete_horizon(int64_t horizon_us);
  void add(int64_t timestamp_us, const std::optional<std::string>& key,
           const std::optional<std::string>& value, const std::vector<RecordHeader>& headers);
  // The same from views of the caller's bytes (nullopt = null), so a batch
  // can be built from encoded records without copying them first.
  struct HeaderRef {
    std::string_view name, value;
  };
  void add_ref(int64_t timestamp_us, std::optional<std::string_view> key, std::optional<std::string_view> value,
               const std::vector<HeaderRef>& headers);
  void add(const Record& r) { add_with_offset(r); }
  void add_with_offset(const Record& r);  // uses r.offset - base_offset as the delta
  size_t record_count() const { return count_; }
  size_t size_bytes() const { return buf_.size(); }
  // Finishes the batch (fills header and CRC) and returns its bytes. With a
  // codec, the records section is compressed as one block (the codec in
  // attribute bits 0-2, the CRC over the stored bytes); a block that would
  // not be smaller is stored uncompressed (codec none).
  std::string finish(const Compression& compression = {});

 private:
  template <class Headers>
  void add_impl(uint32_t offset_delta, int64_t ts, std::optional<std::string_view> key,
                std::optional<std::string_view> value, const Headers& headers);
  uint64_t base_offset_;
  std::string buf_;
  uint32_t count_ = 0;
  uint32_t last_delta_ = 0;
  int64_t first_ts_ = 0;
  int64_t max_ts_ = 0;
  bool horizon_ = false;
  std::string block_;  // the compressed records section, reused
};

}  // namespace rustlog
