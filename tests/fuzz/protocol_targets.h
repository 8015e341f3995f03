#pragma once
// Fuzz targets for the wire protocol: whole payloads through every request
// and response decoder (v0 and extended: the type byte picks the decoder),
// and byte streams through the frame decoder.
// Invariants: a rejection is 400 with a message; whatever decodes re-encodes
// to exactly the input (decode -> encode -> decode is the identity).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "protocol/codec.h"
#include "protocol/frame.h"

namespace rustlog::fuzz {

inline void check_payload(std::string_view payload) {
  using namespace protocol;
  Result<Request> req = decode_request(payload);
  if (req.is_ok()) {
    std::string again;
    FUZZ_CHECK(encode_request(*req, again, UINT32_MAX).is_ok(), "a decoded request does not re-encode");
    FUZZ_CHECK(again.substr(kFrameHeaderBytes) == payload, "request round trip changed the bytes");
    Result<Request> twice = decode_request(std::string_view(again).substr(kFrameHeaderBytes));
    FUZZ_CHECK(twice.is_ok(), "a re-encoded request does not decode");
  } else {
    FUZZ_CHECK(req.status().code() == ErrorCode::kInvalidRequest, "request rejection is not 400");
    FUZZ_CHECK(!req.status().message().empty(), "request rejection without a message");
  }
  Result<Response> resp = decode_response(payload);
  if (resp.is_ok()) {
    std::string again;
    FUZZ_CHECK(encode_response(*resp, again, UINT32_MAX).is_ok(), "a decoded response does not re-encode");
    FUZZ_CHECK(again.substr(kFrameHeaderBytes) == payload, "response round trip changed the bytes");
  } else {
    FUZZ_CHECK(resp.status().code() == ErrorCode::kInvalidRequest, "response rejection is not 400");
  }
}

// Input: one request or response payload (type byte first).
inline int fuzz_messages(const uint8_t* data, size_t size) {
  check_payload(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}

// Input: byte 0 picks the maximum frame size (1..4096), byte 1 the chunk
// size the stream is fed in; the rest is the stream.
inline int fuzz_frames(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint32_t max_frame = 1 + (static_cast<uint32_t>(data[0]) << 4);
  const size_t chunk = 1 + data[1] % 64;
  protocol::FrameDecoder dec(max_frame);
  std::string_view rest(reinterpret_cast<const char*>(data) + 2, size - 2);
  while (!rest.empty() && !dec.failed()) {
    dec.feed(rest.substr(0, chunk));
    rest.remove_prefix(std::min(chunk, rest.size()));
    for (;;) {
      auto f = dec.next();
      if (!f.is_ok()) {
        FUZZ_CHECK(f.status().code() == ErrorCode::kInvalidRequest || f.status().code() == ErrorCode::kTooLarge,
                   "framing error is neither 400 nor 413");
        break;
      }
      if (!*f) break;
      FUZZ_CHECK(!(*f)->empty() && (*f)->size() <= max_frame, "frame size outside 1..max");
      check_payload(**f);
    }
    FUZZ_CHECK(dec.buffered_bytes() <= max_frame + size_t{4} + chunk, "decoder buffers more than a frame");
  }
  return 0;
}

}  // namespace rustlog::fuzz
