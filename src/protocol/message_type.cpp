#include "protocol/message_type.h"

#include <array>

namespace rustlog::protocol {

const char* message_type_name(MessageType type) {
  switch (type) {
    case MessageType::kProduce: return "Produce";
    case MessageType::kFetch: return "Fetch";
    case MessageType::kOffsetCommit: return "OffsetCommit";
    case MessageType::kOffsetFetch: return "OffsetFetch";
    case MessageType::kCreateTopic: return "CreateTopic";
    case MessageType::kListTopics: return "ListTopics";
    case MessageType::kDescribeTopic: return "DescribeTopic";
    case MessageType::kDescribePartition: return "DescribePartition";
    case MessageType::kMetricsFetch: return "MetricsFetch";
    case MessageType::kHandshake: return "Handshake";
    case MessageType::kProduceEx: return "ProduceEx";
    case MessageType::kFetchEx: return "FetchEx";
    case MessageType::kListOffsets: return "ListOffsets";
    case MessageType::kCreateTopicEx: return "CreateTopicEx";
    case MessageType::kDescribeTopicConfig: return "DescribeTopicConfig";
    case MessageType::kDeleteTopic: return "DeleteTopic";
    case MessageType::kListGroups: return "ListGroups";
    case MessageType::kDescribeGroup: return "DescribeGroup";
    case MessageType::kDeleteGroup: return "DeleteGroup";
    case MessageType::kProduceBatch: return "ProduceBatch";
    case MessageType::kError: return "Error";
    case MessageType::kPing: return "Ping";
  }
  return "Unknown";
}

std::span<const MessageType> supported_request_types() {
  static constexpr std::array kTypes = {
      MessageType::kProduce,       MessageType::kFetch,
      MessageType::kOffsetCommit,  MessageType::kOffsetFetch,
      MessageType::kCreateTopic,   MessageType::kListTopics,
      MessageType::kDescribeTopic, MessageType::kDescribePartition,
      MessageType::kMetricsFetch,  MessageType::kHandshake,
      MessageType::kProduceEx,     MessageType::kFetchEx,
      MessageType::kListOffsets,   MessageType::kCreateTopicEx,
      MessageType::kDescribeTopicConfig, MessageType::kDeleteTopic,
      MessageType::kListGroups,    MessageType::kDescribeGroup,
      MessageType::kDeleteGroup,   MessageType::kProduceBatch,
      MessageType::kPing,
  };
  return kTypes;
}

}  // namespace rustlog::protocol
