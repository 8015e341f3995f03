#pragma once
// The FetchEx response written record by record, straight into the frame,
// over as many calls as the broker likes (it builds a large answer a slice
// per event-loop turn): no FetchExResponse or Record objects in between.
// The bytes are exactly those of FetchExResponse -> encode_response for the
// same records, with the same errors.
//
//   FetchExEncoder enc;
//   enc.begin(frame);
//   for each record:
//     enc.add(frame, offset, timestamp_us, key, value, header_count);
//     for each of its headers: enc.add_header(frame, name, value);
//   enc.finish(frame, high_watermark, log_start_offset, next_offset, max_frame_bytes);
//
// With splice_into(&splices), a value of at least kSpliceMinBytes whose
// bytes come pinned is not copied: it is spliced into the frame at its
// position (common/splice.h), and the frame that leaves is
// flatten(frame, splices), byte for byte the same.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/splice.h"
#include "common/status.h"

namespace rustlog::protocol {

class FetchExEncoder {
 public:
  // Starts the frame at the end of `out`.
  void begin(std::string& out);
  // Pinned values go into `splices` from now on (positions in `out`),
  // which begin(), clear() and a failed finish() empty.
  void splice_into(Splices* splices) { splices_ = splices; }
  // Appends one record; its header_count headers follow with add_header().
  // `value_pin`: keeps the value's bytes valid until the frame is sent (may
  // be empty).
  void add(std::string& out, uint64_t offset, int64_t timestamp_us, std::optional<std::string_view> key,
           std::optional<std::string_view> value, size_t header_count, const BytesPin& value_pin = {});
  void add_header(std::string& out, std::string_view name, std::string_view value);
  // Drops every record added: `out` is as begin() left it.
  void clear(std::string& out);
  // The answer's payload size once finished (type byte to next_offset), as
  // protocol/answer_size.h counts it.
  size_t answer_bytes(const std::string& out) const;
  uint32_t records() const { return count_; }
  // Completes the frame. 500 (kInternal) when a record could not be encoded
  // (a header name that is not a wire string), 413 when the answer exceeds
  // `max_frame_bytes`; then `out` is cut back to where begin() found it.
  Status finish(std::string& out, uint64_t high_watermark, uint64_t log_start_offset, uint64_t next_offset,
                uint32_t max_frame_bytes);

 private:
  void nullable(std::string& out, std::optional<std::string_view> b, const char* field);

  size_t start_ = 0;  // frame start in `out`
  uint32_t count_ = 0;
  Splices* splices_ = nullptr;
  size_t spliced_ = 0;  // bytes in *splices_
  Status status_;     // the first encoding error
};

}  // namespace rustlog::protocol
