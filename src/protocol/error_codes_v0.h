#pragma once
// The error codes of the legacy (v0) protocol: the numbers the original
// RustLog broker answered v0 requests with, so that a v0 client which tests
// codes keeps working. Table in docs/PROTOCOL.md, "Error codes of legacy
// connections".
//
// Which table an Error frame uses: a connection that has not sent Handshake
// is a legacy connection, and its answers to v0 requests (and its framing
// errors, which have no request type) carry these codes. Extended requests,
// and every request on a connection that has sent Handshake, carry the
// extended codes (ErrorCode, common/status.h) unchanged.
#include <cstdint>
#include <string>

#include "common/status.h"

namespace rustlog::protocol {

enum class V0Code : uint16_t {
  // The original broker's codes.
  kStorageError = 4,            // storage error while reading (Fetch), or any other I/O failure
  kOffsetCommitRefused = 5,     // OffsetCommit refused, whatever the reason (the message says it)
  kNotFound = 10,               // topic or partition not found (Produce, Fetch, OffsetFetch)
  kTopicExists = 11,            // CreateTopic of an existing topic
  kInvalidPartitionCount = 12,  // CreateTopic with 0 or more than max_partitions partitions
  kTopicNotFound = 13,          // DescribeTopic of an unknown topic
  kPartitionNotFound = 14,      // DescribePartition of an unknown topic or partition
  kInternal = 500,              // broker bug
  // Failures the original broker had no code for (chosen not to collide).
  kFrameTooLarge = 15,     // a frame (or the answer to it) above max_frame_bytes
  kMalformedRequest = 16,  // undecodable or invalid request, unknown type, empty frame
  kOffsetOutOfRange = 17,  // Fetch below the log start is not an error: see docs/PROTOCOL.md
  kReadOnly = 18,          // Produce to a partition made read-only by an I/O failure
  kDiskFull = 19,          // Produce while the disk is full
};

// "NotFound", "TopicExists", ... ; "Unknown" for other numbers.
const char* v0_code_name(uint16_t code);

// True for the request types of the legacy protocol (0x01..0x09, Ping 0xFF).
bool is_v0_request(uint8_t type);

// The v0 code for an error `code` answering a request of `type` (0 when the
// type is unknown, e.g. a framing error).
V0Code v0_code(uint8_t type, ErrorCode code);

// Whether an answer to a request of `type` uses the v0 table on a connection
// that has (not) sent Handshake: only a legacy connection does, and there
// only for v0 requests, unknown types and framing errors.
bool uses_v0_codes(uint8_t type, bool handshaken);

// The Error frame for `status` answering a request of `type`: with the v0
// code when uses_v0_codes(), else the extended code. Never fails.
std::string encode_error_for(uint8_t type, bool handshaken, const Status& status);

// A whole Error frame carrying a v0 code.
std::string encode_v0_error(V0Code code, std::string_view message);

}  // namespace rustlog::protocol
