#pragma once
// Whole-message encode/decode for both ends of a connection. Pure functions: no
// I/O. Payloads come from FrameDecoder (without the length prefix); encoders
// append a whole frame (length prefix included) to `out`, and leave `out`
// untouched when they fail.
//
// Broker:  decode_request(payload) -> handle -> encode_response(resp, out)
//          any failure                       -> out += encode_error(status)
// Client:  encode_request(req, out)  ...  decode_response(payload)
#include <string>
#include <string_view>

#include "protocol/frame.h"
#include "protocol/messages.h"
#include "common/status.h"

namespace rustlog::protocol {

// Decodes one request payload (type byte + fields). Every malformed input yields
// 400 kInvalidRequest with a message naming the request, field and byte position:
// empty payload, unknown type, truncated field, bad string (length past the end,
// invalid UTF-8, NUL), negative nullable length other than -1, a count whose
// minimum encoded size exceeds the remaining bytes, out-of-range values, trailing
// bytes. Such an error leaves the connection usable.
Result<Request> decode_request(std::string_view payload);

// Appends the response frame. Fails (out unchanged) with 413 when the payload
// exceeds max_frame_bytes, or 500 when a field cannot be represented (e.g. a
// string over 65,535 bytes); answer with encode_error(status) instead.
Status encode_response(const Response& response, std::string& out,
                       uint32_t max_frame_bytes = kDefaultMaxFrameBytes);

// A whole Error (0xFE) frame. Never fails: the message is made valid UTF-8 and
// cut to 65,535 bytes.
std::string encode_error(ErrorCode code, std::string_view message);
std::string encode_error(const Status& status);

// Appends the request frame. Fails (out unchanged) with 400 when a field cannot
// be represented or is out of range, 413 above max_frame_bytes.
Status encode_request(const Request& request, std::string& out,
                      uint32_t max_frame_bytes = kDefaultMaxFrameBytes);

// Decodes one response payload; malformed input yields 400 as for requests.
// An Error frame decodes successfully, as ErrorResponse.
Result<Response> decode_response(std::string_view payload);

}  // namespace rustlog::protocol
