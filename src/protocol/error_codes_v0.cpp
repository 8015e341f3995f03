#include "protocol/error_codes_v0.h"

#include "protocol/codec.h"
#include "protocol/message_type.h"

namespace rustlog::protocol {

const char* v0_code_name(uint16_t code) {
  switch (static_cast<V0Code>(code)) {
    case V0Code::kStorageError: return "StorageError";
    case V0Code::kOffsetCommitRefused: return "OffsetCommitRefused";
    case V0Code::kNotFound: return "NotFound";
    case V0Code::kTopicExists: return "TopicExists";
    case V0Code::kInvalidPartitionCount: return "InvalidPartitionCount";
    case V0Code::kTopicNotFound: return "TopicNotFound";
    case V0Code::kPartitionNotFound: return "PartitionNotFound";
    case V0Code::kInternal: return "Internal";
    case V0Code::kFrameTooLarge: return "FrameTooLarge";
    case V0Code::kMalformedRequest: return "MalformedRequest";
    case V0Code::kOffsetOutOfRange: return "OffsetOutOfRange";
    case V0Code::kReadOnly: return "ReadOnly";
    case V0Code::kDiskFull: return "DiskFull";
  }
  return "Unknown";
}

bool is_v0_request(uint8_t type) {
  return (type >= static_cast<uint8_t>(MessageType::kProduce) &&
          type <= static_cast<uint8_t>(MessageType::kMetricsFetch)) ||
         type == static_cast<uint8_t>(MessageType::kPing);
}

namespace {
bool is_extended_request(uint8_t type) {
  return type >= static_cast<uint8_t>(MessageType::kHandshake) &&
         type <= static_cast<uint8_t>(MessageType::kProduceBatch);
}
}  // namespace

V0Code v0_code(uint8_t type, ErrorCode code) {
  const auto t = static_cast<MessageType>(type);
  if (code == ErrorCode::kInternal) return V0Code::kInternal;
  // Requests whose every refusal has one code.
  if (t == MessageType::kOffsetCommit) return V0Code::kOffsetCommitRefused;
  const bool not_found = code == ErrorCode::kTopicNotFound || code == ErrorCode::kPartitionNotFound;
  if (not_found && t == MessageType::kDescribeTopic) return V0Code::kTopicNotFound;
  if (not_found && t == MessageType::kDescribePartition) return V0Code::kPartitionNotFound;
  switch (code) {
    case ErrorCode::kTopicNotFound:
    case ErrorCode::kPartitionNotFound:
    case ErrorCode::kGroupNotFound: return V0Code::kNotFound;
    case ErrorCode::kTopicExists: return V0Code::kTopicExists;
    case ErrorCode::kTooLarge: return V0Code::kFrameTooLarge;
    case ErrorCode::kInvalidRequest: return V0Code::kMalformedRequest;
    case ErrorCode::kOffsetOutOfRange: return V0Code::kOffsetOutOfRange;
    case ErrorCode::kInsufficientSpace: return V0Code::kDiskFull;
    case ErrorCode::kCorruptRecord:
    case ErrorCode::kStorageError:
      // A write refused by a partition an I/O failure made read-only; any
      // other request (Fetch above all) failed while reading.
      return t == MessageType::kProduce ? V0Code::kReadOnly : V0Code::kStorageError;
    default: return V0Code::kInternal;  // no other code reaches the wire
  }
}

bool uses_v0_codes(uint8_t type, bool handshaken) {
  return !handshaken && !is_extended_request(type);
}

std::string encode_v0_error(V0Code code, std::string_view message) {
  return encode_error(static_cast<ErrorCode>(code), message);
}

std::string encode_error_for(uint8_t type, bool handshaken, const Status& status) {
  if (!uses_v0_codes(type, handshaken)) return encode_error(status);
  return encode_v0_error(v0_code(type, status.code()), status.message());
}

}  // namespace rustlog::protocol
