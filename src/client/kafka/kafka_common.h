#pragma once
// librdkafka helpers shared by the Kafka-backed Producer and Consumer and
// by `rustlog mirror` (built only with librdkafka, RUSTLOG_WITH_KAFKA):
// owning handles, configuration from key=value pairs, librdkafka errors as
// ClientErrors with RustLog's codes, and records to and from messages.
#include <librdkafka/rdkafka.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "client/errors.h"
#include "common/record.h"

namespace rustlog::client::kafka {

using client::ClientError;
using client::ClientResult;
using client::ClientStatus;
using client::ErrorSource;

using ConfigPairs = std::vector<std::pair<std::string, std::string>>;

struct HandleDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using Handle = std::unique_ptr<rd_kafka_t, HandleDeleter>;

struct TopicDeleter {
  void operator()(rd_kafka_topic_t* t) const { rd_kafka_topic_destroy(t); }
};
using TopicHandle = std::unique_ptr<rd_kafka_topic_t, TopicDeleter>;

// A configuration with bootstrap.servers and the pairs applied in order
// (a later pair overrides an earlier one). 400 naming the bad pair.
ClientResult<rd_kafka_conf_t*> make_conf(const std::string& bootstrap, const ConfigPairs& pairs);

// rd_kafka_new; takes the conf either way.
ClientResult<Handle> make_handle(rd_kafka_type_t type, rd_kafka_conf_t* conf);

// A librdkafka error as a ClientError: transport codes (broker down,
// timed out, all brokers down) are 520 Transport; unknown topic 404,
// unknown partition 405, message too large 413, authorisation 400 kBroker
// with the reason; the rest 500 kBroker. The message is
// "<context>: <librdkafka's text> (<error name>)".
ClientError kafka_error(rd_kafka_resp_err_t err, const std::string& context, const char* reason = nullptr);

// Partition count of a topic from the cluster's metadata; 0 = no such topic.
// A failed metadata request (cluster unreachable within timeout) is an error.
ClientResult<int> kafka_partition_count(rd_kafka_t* rk, const std::string& topic, int timeout_ms);

// Creates the topic; an existing topic is fine.
ClientStatus kafka_create_topic(rd_kafka_t* rk, const std::string& topic, int partitions, int replication_factor,
                                int timeout_ms);

// Hands one record to librdkafka (copied; headers included): a null key or
// value goes as Kafka's null, an empty one as an empty non-null one; a
// timestamp_us < 0 lets the producer stamp the record (CreateTime = now),
// else it is sent in ms (Kafka's unit). The opaque comes back in the
// delivery report. The error of rd_kafka_producev (queue full, too large).
rd_kafka_resp_err_t produce(rd_kafka_t* rk, const std::string& topic, int32_t partition,
                            const std::optional<std::string>& key, const std::optional<std::string>& value,
                            const std::vector<RecordHeader>& headers, int64_t timestamp_us, void* opaque);

// A consumed message as a Record: offset, timestamp (ms -> µs), key and
// value (null stays null), headers.
Record to_record(const rd_kafka_message_t* m);

}  // namespace rustlog::client::kafka
