#pragma once
// Every message as one variant per direction. The type byte on the wire selects
// the alternative (each struct's kType); request and response share the code.
#include <type_traits>
#include <variant>

#include "protocol/message_type.h"
#include "protocol/messages_ex.h"
#include "protocol/messages_v0.h"

namespace rustlog::protocol {

using Request = std::variant<
    ProduceRequest, FetchRequest, OffsetCommitRequest, OffsetFetchRequest, CreateTopicRequest,
    ListTopicsRequest, DescribeTopicRequest, DescribePartitionRequest, MetricsFetchRequest,
    PingRequest, HandshakeRequest, ProduceExRequest, FetchExRequest, ListOffsetsRequest,
    CreateTopicExRequest, DescribeTopicConfigRequest, DeleteTopicRequest, ListGroupsRequest,
    DescribeGroupRequest, DeleteGroupRequest, ProduceBatchRequest>;

using Response = std::variant<
    ProduceResponse, FetchResponse, OffsetCommitResponse, OffsetFetchResponse,
    CreateTopicResponse, ListTopicsResponse, DescribeTopicResponse, DescribePartitionResponse,
    MetricsResponse, ErrorResponse, PongResponse, HandshakeResponse, ProduceExResponse,
    FetchExResponse, ListOffsetsResponse, CreateTopicExResponse, DescribeTopicConfigResponse,
    DeleteTopicResponse, ListGroupsResponse, DescribeGroupResponse, DeleteGroupResponse,
    ProduceBatchResponse>;

inline MessageType type_of(const Request& r) {
  return std::visit([](const auto& m) { return std::decay_t<decltype(m)>::kType; }, r);
}

inline MessageType type_of(const Response& r) {
  return std::visit([](const auto& m) { return std::decay_t<decltype(m)>::kType; }, r);
}

}  // namespace rustlog::protocol
