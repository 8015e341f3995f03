#include "protocol/codec.h"

#include <cstdio>
#include <utility>
#include <variant>

#include "protocol/codec_body.h"
#include "protocol/wire.h"

namespace rustlog::protocol {
namespace {

std::string hex_byte(uint8_t b) {
  char buf[5];
  std::snprintf(buf, sizeof buf, "0x%02X", b);
  return buf;
}

// Decodes the alternative of Variant whose kType is `type`, if any. The loop over
// alternatives is unrolled at compile time, so the variant is the only type table.
template <typename Variant, size_t I = 0>
bool read_alternative(MessageType type, Reader& r, Variant& out) {
  if constexpr (I < std::variant_size_v<Variant>) {
    using T = std::variant_alternative_t<I, Variant>;
    if (T::kType == type) {
      T msg;
      detail::read_body(r, msg);
      out = std::move(msg);
      return true;
    }
    return read_alternative<Variant, I + 1>(type, r, out);
  } else {
    return false;
  }
}

template <typename Variant>
Result<Variant> decode(std::string_view payload, const char* direction) {
  if (payload.empty()) {
    return Status(ErrorCode::kInvalidRequest,
                  std::string("empty ") + direction + " payload: missing the type byte");
  }
  const auto type = static_cast<MessageType>(static_cast<uint8_t>(payload[0]));
  const std::string what = std::string(message_type_name(type)) + " " + direction;
  Reader r(payload, what);
  r.u8("type");
  Variant out;
  if (!read_alternative(type, r, out)) {
    return Status(ErrorCode::kInvalidRequest, std::string("unknown ") + direction + " type " +
                                                  hex_byte(static_cast<uint8_t>(type)));
  }
  if (Status st = r.finish(); !st.is_ok()) return st;
  return out;
}

// Encodes type byte + body as one frame. A field that cannot be represented is
// reported with `field_error` (the caller's fault for requests, ours for responses).
template <typename Variant>
Status encode(const Variant& msg, std::string& out, uint32_t max_frame_bytes,
              ErrorCode field_error, const char* direction) {
  const size_t start = begin_frame(out);
  Writer w(out);
  const MessageType type = std::visit(
      [&w](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        w.u8(static_cast<uint8_t>(T::kType));
        detail::write_body(w, m);
        return T::kType;
      },
      msg);
  if (!w.status().is_ok()) {
    out.resize(start);
    return Status(field_error, std::string("cannot encode ") + message_type_name(type) + " " +
                                   direction + ": " + w.status().message());
  }
  return end_frame(out, start, max_frame_bytes);
}

}  // namespace

Result<Request> decode_request(std::string_view payload) {
  return decode<Request>(payload, "request");
}

Result<Response> decode_response(std::string_view payload) {
  return decode<Response>(payload, "response");
}

Status encode_request(const Request& request, std::string& out, uint32_t max_frame_bytes) {
  return encode(request, out, max_frame_bytes, ErrorCode::kInvalidRequest, "request");
}

Status encode_response(const Response& response, std::string& out, uint32_t max_frame_bytes) {
  return encode(response, out, max_frame_bytes, ErrorCode::kInternal, "response");
}

std::string encode_error(ErrorCode code, std::string_view message) {
  // 1 type + 2 code + 2 length + at most 65,535 bytes: always a valid frame.
  const Response response = ErrorResponse{code, to_wire_string(message)};
  std::string out;
  const Status st = encode_response(response, out);
  (void)st;  // cannot fail: the message was made encodable above
  return out;
}

std::string encode_error(const Status& status) {
  return encode_error(status.code(), status.message());
}

}  // namespace rustlog::protocol
