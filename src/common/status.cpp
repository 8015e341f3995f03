#include "common/status.h"

namespace rustlog {

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return "Ok";
    case ErrorCode::kInvalidRequest: return "InvalidRequest";
    case ErrorCode::kTopicNotFound: return "TopicNotFound";
    case ErrorCode::kPartitionNotFound: return "PartitionNotFound";
    case ErrorCode::kGroupNotFound: return "GroupNotFound";
    case ErrorCode::kTimedOut: return "TimedOut";
    case ErrorCode::kTopicExists: return "TopicExists";
    case ErrorCode::kTooLarge: return "TooLarge";
    case ErrorCode::kOffsetOutOfRange: return "OffsetOutOfRange";
    case ErrorCode::kInvalidConfig: return "InvalidConfig";
    case ErrorCode::kListenFailed: return "ListenFailed";
    case ErrorCode::kBufferFull: return "BufferFull";
    case ErrorCode::kInternal: return "Internal";
    case ErrorCode::kCorruptRecord: return "CorruptRecord";
    case ErrorCode::kStorageError: return "StorageError";
    case ErrorCode::kInsufficientSpace: return "InsufficientSpace";
    case ErrorCode::kTransport: return "Transport";
  }
  return "Unknown";
}

std::string Status::to_string() const {
  if (is_ok()) return "OK";
  return std::string(error_code_name(code_)) + " (" + std::to_string(static_cast<int>(code_)) +
         "): " + message_;
}

}  // namespace rustlog
