#pragma once
// Internal to the codec: one write_body/read_body pair per message, covering the
// fields after the type byte. codec_v0.cpp holds the legacy layouts,
// codec_ex.cpp the extended ones; codec.cpp dispatches on the type byte.
// read_body leaves errors in the Reader; write_body leaves them in the Writer.
#include "protocol/messages.h"
#include "protocol/wire.h"

namespace rustlog::protocol::detail {

// Legacy v0 requests.
void write_body(Writer& w, const ProduceRequest& m);
void read_body(Reader& r, ProduceRequest& m);
void write_body(Writer& w, const FetchRequest& m);
void read_body(Reader& r, FetchRequest& m);
void write_body(Writer& w, const OffsetCommitRequest& m);
void read_body(Reader& r, OffsetCommitRequest& m);
void write_body(Writer& w, const OffsetFetchRequest& m);
void read_body(Reader& r, OffsetFetchRequest& m);
void write_body(Writer& w, const CreateTopicRequest& m);
void read_body(Reader& r, CreateTopicRequest& m);
void write_body(Writer& w, const ListTopicsRequest& m);
void read_body(Reader& r, ListTopicsRequest& m);
void write_body(Writer& w, const DescribeTopicRequest& m);
void read_body(Reader& r, DescribeTopicRequest& m);
void write_body(Writer& w, const DescribePartitionRequest& m);
void read_body(Reader& r, DescribePartitionRequest& m);
void write_body(Writer& w, const MetricsFetchRequest& m);
void read_body(Reader& r, MetricsFetchRequest& m);
void write_body(Writer& w, const PingRequest& m);
void read_body(Reader& r, PingRequest& m);

// Legacy v0 responses.
void write_body(Writer& w, const ProduceResponse& m);
void read_body(Reader& r, ProduceResponse& m);
void write_body(Writer& w, const FetchResponse& m);
void read_body(Reader& r, FetchResponse& m);
void write_body(Writer& w, const OffsetCommitResponse& m);
void read_body(Reader& r, OffsetCommitResponse& m);
void write_body(Writer& w, const OffsetFetchResponse& m);
void read_body(Reader& r, OffsetFetchResponse& m);
void write_body(Writer& w, const CreateTopicResponse& m);
void read_body(Reader& r, CreateTopicResponse& m);
void write_body(Writer& w, const ListTopicsResponse& m);
void read_body(Reader& r, ListTopicsResponse& m);
void write_body(Writer& w, const DescribeTopicResponse& m);
void read_body(Reader& r, DescribeTopicResponse& m);
void write_body(Writer& w, const DescribePartitionResponse& m);
void read_body(Reader& r, DescribePartitionResponse& m);
void write_body(Writer& w, const MetricsResponse& m);
void read_body(Reader& r, MetricsResponse& m);
void write_body(Writer& w, const ErrorResponse& m);
void read_body(Reader& r, ErrorResponse& m);
void write_body(Writer& w, const PongResponse& m);
void read_body(Reader& r, PongResponse& m);

// ProduceEx in pieces, for ProduceExEncoder (produce_encoder.h): the fields
// before record_count, and one record. write_body(ProduceExRequest) is made of them.
void write_produce_ex_head(Writer& w, std::string_view topic, uint32_t partition, int64_t timestamp_us);
void write_producer_record(Writer& w, const ProducerRecord& rec);

// Extended requests.
void write_body(Writer& w, const HandshakeRequest& m);
void read_body(Reader& r, HandshakeRequest& m);
void write_body(Writer& w, const ProduceExRequest& m);
void read_body(Reader& r, ProduceExRequest& m);
void write_body(Writer& w, const ProduceBatchRequest& m);
void read_body(Reader& r, ProduceBatchRequest& m);
void write_body(Writer& w, const FetchExRequest& m);
void read_body(Reader& r, FetchExRequest& m);
void write_body(Writer& w, const ListOffsetsRequest& m);
void read_body(Reader& r, ListOffsetsRequest& m);
void write_body(Writer& w, const CreateTopicExRequest& m);
void read_body(Reader& r, CreateTopicExRequest& m);
void write_body(Writer& w, const DescribeTopicConfigRequest& m);
void read_body(Reader& r, DescribeTopicConfigRequest& m);
void write_body(Writer& w, const DeleteTopicRequest& m);
void read_body(Reader& r, DeleteTopicRequest& m);
void write_body(Writer& w, const ListGroupsRequest& m);
void read_body(Reader& r, ListGroupsRequest& m);
void write_body(Writer& w, const DescribeGroupRequest& m);
void read_body(Reader& r, DescribeGroupRequest& m);
void write_body(Writer& w, const DeleteGroupRequest& m);
void read_body(Reader& r, DeleteGroupRequest& m);

// Extended responses.
void write_body(Writer& w, const HandshakeResponse& m);
void read_body(Reader& r, HandshakeResponse& m);
void write_body(Writer& w, const ProduceExResponse& m);
void read_body(Reader& r, ProduceExResponse& m);
void write_body(Writer& w, const ProduceBatchResponse& m);
void read_body(Reader& r, ProduceBatchResponse& m);
void write_body(Writer& w, const FetchExResponse& m);
void read_body(Reader& r, FetchExResponse& m);
void write_body(Writer& w, const ListOffsetsResponse& m);
void read_body(Reader& r, ListOffsetsResponse& m);
void write_body(Writer& w, const CreateTopicExResponse& m);
void read_body(Reader& r, CreateTopicExResponse& m);
void write_body(Writer& w, const DescribeTopicConfigResponse& m);
void read_body(Reader& r, DescribeTopicConfigResponse& m);
void write_body(Writer& w, const DeleteTopicResponse& m);
void read_body(Reader& r, DeleteTopicResponse& m);
void write_body(Writer& w, const ListGroupsResponse& m);
void read_body(Reader& r, ListGroupsResponse& m);
void write_body(Writer& w, const DescribeGroupResponse& m);
void read_body(Reader& r, DescribeGroupResponse& m);
void write_body(Writer& w, const DeleteGroupResponse& m);
void read_body(Reader& r, DeleteGroupResponse& m);

}  // namespace rustlog::protocol::detail
