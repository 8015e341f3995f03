#include "client/client.h"

#include <cstdlib>
#include <utility>
#include <variant>

#include "common/host_port.h"

namespace rustlog::client {

using namespace protocol;

// ------------------------------------------------------------------ errors

const char* error_source_name(ErrorSource source) {
  switch (source) {
    case ErrorSource::kBroker: return "broker";
    case ErrorSource::kTransport: return "transport";
    case ErrorSource::kClient: return "client";
  }
  return "unknown";
}

std::string ClientError::to_string() const {
  return std::string(error_source_name(source_)) + " error " + std::to_string(code_number()) + " " +
         error_code_name(code_) + ": " + message_;
}

ClientError broker_error(const ErrorResponse& error) {
  return ClientError(ErrorSource::kBroker, error.code, error.message);
}

// ------------------------------------------------------------------ helpers

std::string BrokerAddress::to_string() const { return HostPort{host, port}.to_string(); }

ClientResult<BrokerAddress> parse_broker_address(std::string_view text) {
  auto hp = parse_host_port(text, {.default_port = uint16_t{9092}, .allow_port_zero = false});
  if (!hp)
    return ClientError(ErrorSource::kClient, ErrorCode::kInvalidConfig,
                       "bad broker address '" + std::string(text) + "': " + hp.status().message() +
                           " (expected HOST:PORT, e.g. 127.0.0.1:9092)");
  return BrokerAddress{std::move(hp->host), hp->port};
}

std::string default_broker_address() {
  const char* env = std::getenv(std::string(kBrokerEnvVar).c_str());
  if (env && *env) return env;
  return std::string(kDefaultBroker);
}

ProducerRecord record(std::string value, std::optional<std::string> key, std::vector<RecordHeader> headers) {
  ProducerRecord r;
  r.value = std::move(value);
  r.key = std::move(key);
  r.headers = std::move(headers);
  return r;
}

// ------------------------------------------------------------------ Client

Client::Client(BrokerAddress address, ClientOptions options)
    : address_(std::move(address)), address_str_(address_.to_string()), options_(std::move(options)) {}

Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;
Client::~Client() = default;

ClientResult<Client> Client::connect(std::string_view address, const ClientOptions& options) {
  auto a = parse_broker_address(address);
  if (!a) return a.error();
  return connect(*a, options);
}

ClientResult<Client> Client::connect(const BrokerAddress& address, const ClientOptions& options) {
  Client c(address, options);
  ClientStatus st = c.open();
  if (!st) return st.error();
  return c;
}

ClientResult<Connection> open_connection(const BrokerAddress& address, const ClientOptions& options) {
  ConnectOptions co;
  co.connect_timeout = options.connect_timeout;
  co.io_timeout = options.request_timeout;
  co.max_frame_bytes = options.max_frame_bytes;
  auto conn = Connection::connect(address.host, address.port, co);
  if (!conn) {
    std::string msg = conn.status().message();
    if (conn.status().code() == ErrorCode::kTransport) msg += " (is the broker running there?)";
    return ClientError(ErrorSource::kTransport, conn.status().code(), msg);
  }
  return std::move(*conn);
}

ClientStatus Client::open() {
  auto conn = open_connection(address_, options_);
  if (!conn) return conn.error();
  conn_ = std::make_unique<Connection>(std::move(*conn));
  in_flight_.clear();
  server_ = HandshakeResponse{};
  if (options_.handshake) {
    auto r = call_with_timeout(HandshakeRequest{options_.client_id}, options_.request_timeout);
    if (!r) {
      // A broker that predates the Handshake answers with an Error frame:
      // carry on without it. A transport failure is a failure.
      if (r.error().source() != ErrorSource::kBroker) return r.error();
    } else if (auto* h = std::get_if<HandshakeResponse>(&*r)) {
      server_ = std::move(*h);
    }
  }
  return {};
}

bool Client::connected() const { return conn_ && conn_->is_open(); }

ClientStatus Client::reconnect() {
  close();
  return open();
}

void Client::close() {
  if (conn_) conn_->close();
  in_flight_.clear();
}

ClientError Client::transport_error(const Status& status) {
  // After a timeout the answer may still arrive later and would be taken for
  // the answer to the next request: never reuse such a connection.
  if (conn_ && conn_->last_failure() == Failure::kTimeout) conn_->close();
  in_flight_.clear();
  std::string msg = status.message();
  if (!conn_ || !conn_->is_open()) {
    if (msg.find(address_str_) == std::string::npos) msg = address_str_ + ": " + msg;
  }
  return ClientError(ErrorSource::kTransport, status.code(), msg);
}

ClientStatus Client::ready_for_call() const {
  if (!conn_ || !conn_->is_open())
    return ClientError(ErrorSource::kTransport, ErrorCode::kTransport,
                       "not connected to " + address_str_ + " (call reconnect())");
  if (!in_flight_.empty())
    return ClientError::invalid_argument(std::to_string(in_flight_.size()) +
                                         " pipelined produce answers are still unread: call "
                                         "receive_produce() first");
  return {};
}

ClientResult<Response> Client::call_with_timeout(const Request& request, std::chrono::milliseconds timeout) {
  if (!conn_ || !conn_->is_open())
    return ClientError(ErrorSource::kTransport, ErrorCode::kTransport,
                       "not connected to " + address_str_ + " (call reconnect())");
  if (conn_->io_timeout() != timeout) {
    if (Status st = conn_->set_io_timeout(timeout); !st) return ClientError::invalid_argument(st.message());
  }
  if (Status st = conn_->send(request); !st) {
    if (conn_->is_open()) return ClientError(ErrorSource::kClient, st.code(), st.message());  // not encodable
    return transport_error(st);
  }
  auto r = conn_->receive();
  if (!r) return transport_error(r.status());
  if (auto* e = std::get_if<ErrorResponse>(&*r)) return broker_error(*e);
  return std::move(*r);
}

ClientResult<Response> Client::call(const Request& request) {
  if (ClientStatus st = ready_for_call(); !st) return st.error();
  return call_with_timeout(request, options_.request_timeout);
}

template <typename T>
ClientResult<T> Client::call_as(const Request& request, std::optional<std::chrono::milliseconds> timeout) {
  if (ClientStatus st = ready_for_call(); !st) return st.error();
  auto r = call_with_timeout(request, timeout.value_or(options_.request_timeout));
  if (!r) return r.error();
  if (auto* v = std::get_if<T>(&*r)) return std::move(*v);
  return ClientError(ErrorSource::kTransport, ErrorCode::kInvalidRequest,
                     std::string("unexpected answer from ") + address_str_ + ": " +
                         message_type_name(type_of(*r)) + " to a " + message_type_name(T::kType) +
                         " request");
}

ClientResult<std::chrono::microseconds> Client::ping() {
  const auto t0 = std::chrono::steady_clock::now();
  auto r = call_as<PongResponse>(PingRequest{});
  if (!r) return r.error();
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0);
}

ClientResult<std::string> Client::metrics_text() {
  auto r = call_as<MetricsResponse>(MetricsFetchRequest{});
  if (!r) return r.error();
  return std::move(r->text);
}

ClientResult<ProduceResult> Client::produce(const std::string& topic, uint32_t partition,
                                            std::vector<ProducerRecord> records, int64_t batch_timestamp_us) {
  ProduceExRequest req;
  req.topic = topic;
  req.partition = partition;
  req.timestamp_us = batch_timestamp_us;
  req.records = std::move(records);
  return produce(std::move(req));
}

ClientResult<ProduceResult> Client::produce(ProduceExRequest request) {
  if (request.records.empty()) return ClientError::invalid_argument("produce: no records");
  std::string topic = request.topic;
  const uint32_t partition = request.partition;
  auto r = call_as<ProduceExResponse>(std::move(request));
  if (!r) return r.error();
  return ProduceResult{std::move(topic), partition, r->base_offset, r->record_count, r->append_time_us};
}

ClientStatus Client::send_produce(ProduceExRequest request) {
  if (request.records.empty()) return ClientError::invalid_argument("produce: no records");
  if (!conn_ || !conn_->is_open())
    return ClientError(ErrorSource::kTransport, ErrorCode::kTransport,
                       "not connected to " + address_str_ + " (call reconnect())");
  if (conn_->io_timeout() != options_.request_timeout) {
    if (Status st = conn_->set_io_timeout(options_.request_timeout); !st)
      return ClientError::invalid_argument(st.message());
  }
  Pending p{request.topic, request.partition};
  if (Status st = conn_->send(std::move(request)); !st) {
    if (conn_->is_open()) return ClientError(ErrorSource::kClient, st.code(), st.message());
    return transport_error(st);
  }
  in_flight_.push_back(std::move(p));
  return {};
}

ClientResult<ProduceResult> Client::receive_produce() {
  if (in_flight_.empty()) return ClientError::invalid_argument("receive_produce: nothing in flight");
  Pending p = std::move(in_flight_.front());
  in_flight_.pop_front();
  auto r = conn_->receive();
  if (!r) return transport_error(r.status());
  if (auto* e = std::get_if<ErrorResponse>(&*r)) {
    ClientError err = broker_error(*e);
    return ClientError(err.source(), err.code(),
                       "produce to " + p.topic + "/" + std::to_string(p.partition) + ": " + err.message());
  }
  auto* v = std::get_if<ProduceExResponse>(&*r);
  if (!v)
    return ClientError(ErrorSource::kTransport, ErrorCode::kInvalidRequest,
                       std::string("unexpected answer from ") + address_str_ + ": " +
                           message_type_name(type_of(*r)) + " to a ProduceEx request");
  return ProduceResult{std::move(p.topic), p.partition, v->base_offset, v->record_count, v->append_time_us};
}

ClientResult<FetchResult> Client::fetch(const std::string& topic, uint32_t partition, uint64_t offset,
                                        const FetchOptions& options) {
  FetchExRequest req;
  req.topic = topic;
  req.partition = partition;
  req.offset = offset;
  req.max_bytes = options.max_bytes;
  const auto wait = std::max<int64_t>(0, options.max_wait.count());
  req.max_wait_ms = static_cast<uint32_t>(std::min<int64_t>(wait, UINT32_MAX));
  req.min_bytes = options.min_bytes;
  std::optional<std::chrono::milliseconds> timeout;
  if (wait > 0 && options_.request_timeout.count() > 0)
    timeout = options_.request_timeout + std::chrono::milliseconds(wait);
  auto r = call_as<FetchExResponse>(req, timeout);
  if (!r) return r.error();
  return FetchResult{r->high_watermark, r->log_start_offset, std::move(r->records), r->next_offset};
}

ClientResult<OffsetLookup> Client::list_offsets(const std::string& topic, uint32_t partition, int64_t spec) {
  if (spec < kListOffsetsEarliest)
    return ClientError::invalid_argument("list_offsets: spec must be -2 (earliest), -1 (latest) or a timestamp");
  auto r = call_as<ListOffsetsResponse>(ListOffsetsRequest{topic, partition, spec});
  if (!r) return r.error();
  return OffsetLookup{r->offset, r->found};
}

ClientResult<uint64_t> Client::earliest_offset(const std::string& topic, uint32_t partition) {
  auto r = list_offsets(topic, partition, kListOffsetsEarliest);
  if (!r) return r.error();
  return r->offset;
}

ClientResult<uint64_t> Client::latest_offset(const std::string& topic, uint32_t partition) {
  auto r = list_offsets(topic, partition, kListOffsetsLatest);
  if (!r) return r.error();
  return r->offset;
}

ClientResult<OffsetLookup> Client::offset_for_time(const std::string& topic, uint32_t partition,
                                                   int64_t timestamp_us) {
  if (timestamp_us < 0) return ClientError::invalid_argument("offset_for_time: timestamp must be >= 0");
  return list_offsets(topic, partition, timestamp_us);
}

ClientStatus Client::commit_offset(const std::string& group, const std::string& topic, uint32_t partition,
                                   uint64_t offset) {
  if (group.empty()) return ClientError::invalid_argument("commit_offset: empty group id");
  auto r = call_as<OffsetCommitResponse>(OffsetCommitRequest{group, topic, partition, offset});
  if (!r) return r.error();
  if (!r->success)
    return ClientError(ErrorSource::kBroker, ErrorCode::kInternal,
                       "the broker refused to commit offset " + std::to_string(offset) + " for group " + group);
  return {};
}

ClientResult<std::optional<uint64_t>> Client::committed_offset(const std::string& group, const std::string& topic,
                                                               uint32_t partition) {
  if (group.empty()) return ClientError::invalid_argument("committed_offset: empty group id");
  auto r = call_as<OffsetFetchResponse>(OffsetFetchRequest{group, topic, partition});
  if (!r) return r.error();
  return r->offset;
}

ClientStatus Client::create_topic(const std::string& name, uint32_t partitions, std::vector<ConfigEntry> configs) {
  auto r = call_as<CreateTopicExResponse>(CreateTopicExRequest{name, partitions, std::move(configs)});
  if (!r) return r.error();
  return {};
}

ClientResult<std::vector<TopicInfo>> Client::list_topics() {
  auto r = call_as<ListTopicsResponse>(ListTopicsRequest{});
  if (!r) return r.error();
  std::vector<TopicInfo> out;
  out.reserve(r->topics.size());
  for (auto& t : r->topics) out.push_back({std::move(t.name), t.partition_count});
  return out;
}

ClientResult<TopicDescription> Client::describe_topic(const std::string& name) {
  auto r = call_as<DescribeTopicConfigResponse>(DescribeTopicConfigRequest{name});
  if (!r) return r.error();
  return TopicDescription{name, r->partition_count, std::move(r->partitions), std::move(r->configs)};
}

ClientResult<uint32_t> Client::partition_count(const std::string& topic) {
  auto r = call_as<DescribeTopicResponse>(DescribeTopicRequest{topic});
  if (!r) return r.error();
  return r->partition_count;
}

ClientStatus Client::delete_topic(const std::string& name) {
  auto r = call_as<DeleteTopicResponse>(DeleteTopicRequest{name});
  if (!r) return r.error();
  return {};
}

ClientResult<std::vector<std::string>> Client::list_groups() {
  auto r = call_as<ListGroupsResponse>(ListGroupsRequest{});
  if (!r) return r.error();
  return std::move(r->groups);
}

ClientResult<std::vector<GroupOffset>> Client::describe_group(const std::string& group) {
  auto r = call_as<DescribeGroupResponse>(DescribeGroupRequest{group});
  if (!r) return r.error();
  return std::move(r->partitions);
}

ClientStatus Client::delete_group(const std::string& group) {
  auto r = call_as<DeleteGroupResponse>(DeleteGroupRequest{group});
  if (!r) return r.error();
  return {};
}

}  // namespace rustlog::client
