#pragma once
// Framing (docs/PROTOCOL.md, "Framing"): a TCP stream is a sequence of frames,
// each `u32 length` (big-endian, payload bytes only) followed by the payload.
// A length of 0 or above max_frame_bytes is a fatal framing error: the stream can
// no longer be trusted, so the broker answers with one Error frame and closes.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace rustlog::protocol {

inline constexpr uint32_t kDefaultMaxFrameBytes = 10 * 1024 * 1024;  // 10,485,760
inline constexpr size_t kFrameHeaderBytes = 4;

// Reassembles frames from arbitrary chunks of a byte stream.
//
//   decoder.feed(chunk);
//   for (;;) {
//     auto frame = decoder.next();
//     if (!frame) -> send Error(frame.status()), close    (fatal, sticky)
//     if (!*frame) break;                                 (need more bytes)
//     handle(**frame);                                    (one payload)
//   }
class FrameDecoder {
 public:
  explicit FrameDecoder(uint32_t max_frame_bytes = kDefaultMaxFrameBytes);

  // Appends stream bytes. Ignored once the decoder has failed.
  void feed(std::string_view bytes);

  // The next complete payload (without its length prefix); std::nullopt when more
  // bytes are needed; or the framing error (400 for length 0, 413 for a length
  // above the maximum), which every later call returns too. An oversized length is
  // reported as soon as its 4 bytes arrive, before any payload is buffered.
  // The view stays valid until the next call to feed().
  Result<std::optional<std::string_view>> next();
  // As next(), without taking the frame: the same frame again until pop().
  Result<std::optional<std::string_view>> peek();
  // Takes the frame peek() returned (call only after it returned one).
  void pop();

  bool failed() const { return !error_.is_ok(); }
  // Bytes received but not yet returned as frames (a partial frame at most, plus
  // any complete frames not yet taken with next()).
  size_t buffered_bytes() const { return buf_.size() - pos_; }
  uint32_t max_frame_bytes() const { return max_frame_bytes_; }

 private:
  uint32_t max_frame_bytes_;
  std::string buf_;
  size_t pos_ = 0;     // start of the first unreturned byte in buf_
  size_t peeked_ = 0;  // length of the frame peek() returned (header included)
  Status error_;
};

// Checks a frame length read from the wire: ok, 400 for 0, 413 above the maximum.
Status check_frame_length(uint32_t length, uint32_t max_frame_bytes);

// Writing a frame in place: begin_frame() appends a 4-byte placeholder and returns
// its position; after the payload is appended, end_frame() patches the length. If
// the payload is empty or larger than max_frame_bytes, end_frame() erases
// everything from `start` on (leaving `out` as it was) and returns 413 (400 when
// empty).
size_t begin_frame(std::string& out);
// `spliced_bytes`: payload bytes sent from elsewhere (common/splice.h), not in `out`.
Status end_frame(std::string& out, size_t start, uint32_t max_frame_bytes, size_t spliced_bytes = 0);

// Appends one whole frame carrying `payload`; same checks as end_frame().
Status append_frame(std::string& out, std::string_view payload,
                    uint32_t max_frame_bytes = kDefaultMaxFrameBytes);

}  // namespace rustlog::protocol
