#include "client/kafka/kafka_common.h"

#include <memory>

namespace rustlog::client::kafka {

ClientResult<rd_kafka_conf_t*> make_conf(const std::string& bootstrap, const ConfigPairs& pairs) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  auto set = [&](const std::string& k, const std::string& v) -> ClientStatus {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK)
      return ClientError::invalid_argument("Kafka config " + k + "=" + v + ": " + err);
    return {};
  };
  ClientStatus st = set("bootstrap.servers", bootstrap);
  for (const auto& [k, v] : pairs)
    if (st) st = set(k, v);
  if (!st) {
    rd_kafka_conf_destroy(conf);
    return st.error();
  }
  return conf;
}

ClientResult<Handle> make_handle(rd_kafka_type_t type, rd_kafka_conf_t* conf) {
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof err);
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    return ClientError::invalid_argument(std::string("cannot create a Kafka client: ") + err);
  }
  return Handle(rk);
}

ClientError kafka_error(rd_kafka_resp_err_t err, const std::string& context, const char* reason) {
  const std::string text = context + ": " + (reason && *reason ? reason : rd_kafka_err2str(err)) + " (" +
                           rd_kafka_err2name(err) + ")";
  switch (err) {
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
    case RD_KAFKA_RESP_ERR__RESOLVE:
      return ClientError(ErrorSource::kTransport, ErrorCode::kTransport, text);
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
      return ClientError(ErrorSource::kBroker, ErrorCode::kTopicNotFound, text);
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
      return ClientError(ErrorSource::kBroker, ErrorCode::kPartitionNotFound, text);
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
      return ClientError(ErrorSource::kBroker, ErrorCode::kTooLarge, text);
    case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS:
      return ClientError(ErrorSource::kBroker, ErrorCode::kTopicExists, text);
    case RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE:
      return ClientError(ErrorSource::kBroker, ErrorCode::kOffsetOutOfRange, text);
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
      return ClientError(ErrorSource::kClient, ErrorCode::kBufferFull, text);
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
      return ClientError(ErrorSource::kBroker, ErrorCode::kInvalidRequest, text);
    default:
      return ClientError(ErrorSource::kBroker, ErrorCode::kInternal, text);
  }
}

ClientResult<int> kafka_partition_count(rd_kafka_t* rk, const std::string& topic, int timeout_ms) {
  // All topics: asking for one topic by name may make the cluster create it
  // (auto.create.topics.enable) with its default partition count.
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, nullptr, &md, timeout_ms);
  if (err) return kafka_error(err, "Kafka metadata (is the cluster reachable?)");
  std::unique_ptr<const rd_kafka_metadata_t, void (*)(const rd_kafka_metadata_t*)> hold(md, rd_kafka_metadata_destroy);
  for (int i = 0; i < md->topic_cnt; ++i) {
    const auto& t = md->topics[i];
    if (topic != t.topic) continue;
    if (t.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) return 0;
    if (t.err) return kafka_error(t.err, "Kafka topic " + topic);
    return t.partition_cnt;
  }
  return 0;
}

ClientStatus kafka_create_topic(rd_kafka_t* rk, const std::string& topic, int partitions, int replication_factor,
                                int timeout_ms) {
  char err[512];
  rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(topic.c_str(), partitions, replication_factor, err, sizeof err);
  if (!nt) return ClientError::invalid_argument("Kafka topic " + topic + ": " + err);
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  rd_kafka_AdminOptions_t* opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(opts, timeout_ms, err, sizeof err);
  rd_kafka_CreateTopics(rk, &nt, 1, opts, q);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, timeout_ms + 1000);
  ClientStatus st;
  if (!ev) {
    st = kafka_error(RD_KAFKA_RESP_ERR__TIMED_OUT, "creating Kafka topic " + topic);
  } else if (rd_kafka_event_error(ev)) {
    st = kafka_error(rd_kafka_event_error(ev), "creating Kafka topic " + topic, rd_kafka_event_error_string(ev));
  } else {
    size_t n = 0;
    const rd_kafka_topic_result_t** res = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    for (size_t i = 0; i < n; ++i) {
      const rd_kafka_resp_err_t e = rd_kafka_topic_result_error(res[i]);
      if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
        st = kafka_error(e, "creating Kafka topic " + topic, rd_kafka_topic_result_error_string(res[i]));
    }
  }
  if (ev) rd_kafka_event_destroy(ev);
  rd_kafka_AdminOptions_destroy(opts);
  rd_kafka_NewTopic_destroy(nt);
  rd_kafka_queue_destroy(q);
  return st;
}

rd_kafka_resp_err_t produce(rd_kafka_t* rk, const std::string& topic, int32_t partition,
                            const std::optional<std::string>& key, const std::optional<std::string>& value,
                            const std::vector<RecordHeader>& headers, int64_t timestamp_us, void* opaque) {
  rd_kafka_headers_t* hs = nullptr;
  if (!headers.empty()) {
    hs = rd_kafka_headers_new(headers.size());
    for (const auto& h : headers)
      rd_kafka_header_add(hs, h.name.data(), static_cast<ssize_t>(h.name.size()), h.value.data(), h.value.size());
  }
  // librdkafka tells null from empty by the pointer alone.
  static const char kEmpty = 0;
  const void* k = key ? (key->empty() ? &kEmpty : key->data()) : nullptr;
  const void* v = value ? (value->empty() ? &kEmpty : value->data()) : nullptr;
  const rd_kafka_resp_err_t err = rd_kafka_producev(
      rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
      RD_KAFKA_V_KEY(const_cast<void*>(k), (key ? key->size() : 0)),
      RD_KAFKA_V_VALUE(const_cast<void*>(v), (value ? value->size() : 0)),
      RD_KAFKA_V_TIMESTAMP(timestamp_us < 0 ? 0 : timestamp_us / 1000), RD_KAFKA_V_HEADERS(hs),
      RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
  // On success librdkafka owns the headers; on failure they are still ours.
  if (err && hs) rd_kafka_headers_destroy(hs);
  return err;
}

Record to_record(const rd_kafka_message_t* m) {
  Record r;
  r.offset = static_cast<uint64_t>(m->offset);
  rd_kafka_timestamp_type_t type;
  const int64_t ms = rd_kafka_message_timestamp(m, &type);
  r.timestamp_us = ms >= 0 ? ms * 1000 : 0;
  if (m->key) r.key = std::string(static_cast<const char*>(m->key), m->key_len);
  if (m->payload) r.value = std::string(static_cast<const char*>(m->payload), m->len);
  rd_kafka_headers_t* hs = nullptr;  // owned by the message
  if (rd_kafka_message_headers(m, &hs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* name;
    const void* val;
    size_t size;
    for (size_t i = 0; rd_kafka_header_get_all(hs, i, &name, &val, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i)
      r.headers.push_back({name, val ? std::string(static_cast<const char*>(val), size) : std::string()});
  }
  return r;
}

}  // namespace rustlog::client::kafka
