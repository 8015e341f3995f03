// Broker's data path: open/shutdown, group commit, handle() and dispatch,
// OffsetCommit/OffsetFetch. Produces (and their grouped writes) are in
// broker_produce.cpp, admin and group handlers in broker_admin.cpp, fetches
// in broker_fetch.cpp.
#include "broker/broker.h"

#include <algorithm>

#include "common/clock.h"
#include "protocol/codec.h"
#include "protocol/produce_v0.h"

namespace rustlog {

using namespace protocol;

namespace {
constexpr const char* kServerVersion = "kafka-lite 0.1.0 (RustLog)";
}  // namespace

Broker::Broker(BrokerConfig cfg)
    : cfg_(std::move(cfg)), group_commit_(cfg_.sync_workers, &metrics_) {}
Broker::~Broker() = default;

TopicConfig Broker::offsets_topic_config() const {
  TopicConfig c = cfg_.topic_defaults;
  c.partitions = 1;
  c.cleanup = CleanupPolicy::kCompact;
  c.retention_ms = -1;
  c.segment_bytes = cfg_.offsets_segment_bytes;
  c.flush = FlushPolicy{};  // commits are always fsynced before they are acknowledged
  // Every commit batch is indexed: after damage, resynchronisation resumes
  // only at a proven batch start, so with an entry per batch one damaged
  // commit never makes its neighbours unreadable (docs/STORAGE.md, 10).
  c.index_interval_bytes = 0;
  return c;
}

Status Broker::open(RegistryOpenReport* report) {
  registry_ = std::make_unique<TopicRegistry>(cfg_.data_dir, cfg_.max_mapped_segments,
                                              cfg_.max_open_segment_files, cfg_.segment_preallocate_bytes);
  RegistryOpenOptions options;
  options.init_data_dir = cfg_.init_data_dir;
  options.recover_topics = cfg_.recover_topics;
  options.recovered_config = [this](const std::string& topic) {
    return topic == kOffsetsTopic ? offsets_topic_config() : cfg_.topic_defaults;
  };
  RUSTLOG_RETURN_IF_ERROR(registry_->open(options, report));
  Topic* t = registry_->find(kOffsetsTopic);
  if (!t) {
    auto created = registry_->create(kOffsetsTopic, offsets_topic_config());
    if (!created) return created.status();
    t = *created;
  }
  offsets_ = std::make_unique<OffsetStore>(t->partitions[0].get());
  RUSTLOG_RETURN_IF_ERROR(offsets_->load());
  start_cleaner();
  if (report) {
    metrics_.recovery_partitions.inc(report->partitions);
    metrics_.recovery_scanned_bytes.inc(report->bytes_scanned);
    metrics_.recovery_truncated_bytes.inc(report->bytes_truncated);
    metrics_.recovery_indexes_rebuilt.inc(report->indexes_rebuilt);
    metrics_.corruption_recovery.inc(report->corruptions);
  }
  for (const auto& [name, topic] : registry_->topics()) track_partitions(*topic);
  publish_metrics();
  return Status::ok();
}

Status Broker::shutdown() {
  if (!registry_) return Status::ok();
  settle_cleaner(wall_us());
  Status st = registry_->flush_all();
  Status cp = registry_->checkpoint();
  return st.is_ok() ? cp : st;
}

uint64_t Broker::visible_end(const PartitionLog& log) {
  return log.config().flush.kind == FlushPolicy::Kind::kAlways ? log.recovery_point()
                                                               : log.high_watermark();
}

void Broker::note_appended(PartitionLog* log) {
  if (std::find(appended_.begin(), appended_.end(), log) == appended_.end()) appended_.push_back(log);
}

void Broker::forget_logs(const std::vector<const PartitionLog*>& gone) {
  for (const PartitionLog* p : gone) {
    group_commit_.forget(p);
    std::erase(appended_, p);
    partition_counters_.erase(p);  // keys only: the logs are about to be freed
    if (auto it = log_ids_.find(p); it != log_ids_.end()) {
      destroyed_.push_back(it->second);
      logs_.erase(it->second);
      log_ids_.erase(it);
    }
  }
}

LogId Broker::log_id(const PartitionLog* log) const {
  auto it = log_ids_.find(log);
  return it == log_ids_.end() ? 0 : it->second;
}

PartitionLog* Broker::log_for(const std::string& topic, uint32_t partition) {
  auto p = registry_->partition(topic, partition);
  return p ? *p : nullptr;
}

Broker::CommitRound Broker::group_commit(int64_t now_ms, bool all) {
  CommitRound round;
  for (PartitionLog* log : appended_) {
    group_commit_.note_appended(log);
    // Visible at once unless only a flush makes it visible.
    if (log->config().flush.kind != FlushPolicy::Kind::kAlways) round.visible.push_back(log_id(log));
  }
  appended_.clear();
  const std::vector<PartitionLog*> flushed = group_commit_.commit(now_ms, all);
  // Commits and tombstones take effect once durable, before any answer
  // waiting for them is released.
  offsets_->apply_durable();
  for (PartitionLog* log : flushed) {
    if (log->read_only()) continue;
    round.bytes += take_flushed_bytes(log);
    if (log->config().flush.kind == FlushPolicy::Kind::kAlways) round.visible.push_back(log_id(log));
  }
  round.partitions = flushed.size();
  round.visible.insert(round.visible.end(), destroyed_.begin(), destroyed_.end());
  destroyed_.clear();
  return round;
}

std::optional<Status> Broker::flush_result(const FlushTicket& t) const {
  auto it = logs_.find(t.log);
  if (it == logs_.end()) return Status::ok();
  const PartitionLog& log = *it->second;
  if (log.recovery_point() >= t.end) return Status::ok();
  if (log.read_only()) return log.fatal_error();
  return std::nullopt;
}

bool Broker::appends_only(uint8_t type) {
  return type == static_cast<uint8_t>(MessageType::kProduce) || type == static_cast<uint8_t>(MessageType::kProduceEx) ||
         type == static_cast<uint8_t>(MessageType::kProduceBatch);
}

bool Broker::changes_state(uint8_t type) {
  switch (static_cast<MessageType>(type)) {
    case MessageType::kProduce:
    case MessageType::kProduceEx:
    case MessageType::kProduceBatch:
    case MessageType::kOffsetCommit:
    case MessageType::kCreateTopic:
    case MessageType::kCreateTopicEx:
    case MessageType::kDeleteTopic:
    case MessageType::kDeleteGroup: return true;
    default: return false;
  }
}

bool Broker::is_fetch(uint8_t type) {
  return type == static_cast<uint8_t>(MessageType::kFetch) || type == static_cast<uint8_t>(MessageType::kFetchEx);
}

uint64_t Broker::answer_bound(std::string_view payload) const {
  constexpr uint64_t kSmall = 4 * 1024, kMinFetch = 64 * 1024, kOverhead = 64;
  const uint8_t type = payload.empty() ? 0 : static_cast<uint8_t>(payload[0]);
  if (!is_fetch(type)) return kSmall;
  auto req = decode_request(payload);
  if (!req) return kSmall;
  const uint64_t frame = cfg_.max_frame_bytes;
  if (const auto* f = std::get_if<FetchRequest>(&*req))
    return std::min<uint64_t>(frame, std::max<uint64_t>(f->max_bytes, kMinFetch) + kOverhead);
  if (const auto* f = std::get_if<FetchExRequest>(&*req)) return fetch_ex_bound(f->max_bytes);
  return kSmall;
}

uint64_t Broker::fetch_ex_bound(uint64_t max_bytes) const {
  constexpr uint64_t kMinFetch = 64 * 1024;
  const uint64_t frame = cfg_.max_frame_bytes;
  // Up to 4x the stored bytes read (see fetch_ex).
  return std::min<uint64_t>(frame, 4 * std::max<uint64_t>(std::min<uint64_t>(max_bytes, frame / 4), kMinFetch));
}

Outcome Broker::handle(std::string_view payload, int64_t now_us, bool handshaken, bool group) {
  Effects fx;
  grouping_ = group;
  const uint8_t type = payload.empty() ? 0 : static_cast<uint8_t>(payload[0]);
  metrics_.on_request(type);
  metrics_dirty_ = true;
  std::string frame;
  Status st;
  if (ProduceV0 lp; type == static_cast<uint8_t>(MessageType::kProduce) && parse_produce_v0(payload, &lp)) {
    // Legacy produce without the generic decoder (no std::string per record);
    // anything it does not accept goes through decode_request for its answer.
    st = produce_v0(lp, now_us, fx, frame);
  } else if (auto req = decode_request(payload); !req) {
    st = req.status();
  } else if (const auto* f = std::get_if<FetchRequest>(&*req)) {
    st = fetch(*f, fx, frame);  // written straight into the frame: no FetchResponse in between
  } else if (const auto* fe = std::get_if<FetchExRequest>(&*req)) {
    st = fetch_ex(*fe, /*final=*/false, fx, frame);  // likewise
    if (fx.park) {
      metrics_.fetch_parked.inc();
      const LogId id = log_id(log_for(fx.park->topic, fx.park->partition));
      return outcome::LongPoll{std::move(*fx.park), id};
    }
  } else {
    Out out = dispatch(*req, now_us, fx);
    if (out && fx.admin_job) {
      admin_jobs_.back().type = type;
      admin_jobs_.back().handshaken = handshaken;
      return outcome::AdminSteps{*fx.admin_job};
    }
    st = out ? encode_response(*out, frame, cfg_.max_frame_bytes) : out.status();
  }
  if (!st) {
    metrics_.on_error(type, st.code());
    if (fx.v0_code && uses_v0_codes(type, handshaken)) return outcome::Ready{encode_v0_error(*fx.v0_code, st.message())};
    return outcome::Ready{encode_error_for(type, handshaken, st)};
  }
  if (fx.staged) return staged(type, handshaken, std::move(frame));
  if (fx.slices) fx.slices->handshaken = handshaken;
  if (fx.slices) return outcome::FetchSlices{std::move(fx.slices)};
  if (fx.wait_flush) return outcome::AwaitFlush{std::move(frame), {log_id(fx.wait_flush), fx.wait_flush->high_watermark()}};
  return outcome::Ready{std::move(frame), std::move(fx.splices)};
}

Broker::Out Broker::dispatch(const Request& req, int64_t now_us, Effects& fx) {
  return std::visit(
      [&](const auto& r) -> Out {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, ProduceRequest>) return produce(r, now_us, fx);
        else if constexpr (std::is_same_v<T, ProduceExRequest>) return produce_ex(r, now_us, fx);
        else if constexpr (std::is_same_v<T, ProduceBatchRequest>) return produce_batch(r, now_us, fx);
        else if constexpr (std::is_same_v<T, OffsetCommitRequest>) return offset_commit(r, now_us, fx);
        else if constexpr (std::is_same_v<T, OffsetFetchRequest>) return offset_fetch(r);
        else if constexpr (std::is_same_v<T, CreateTopicRequest>) return create_topic(r.topic, r.partition_count, {}, fx);
        else if constexpr (std::is_same_v<T, CreateTopicExRequest>) {
          // Answered with the extended type whether or not configs were given.
          Out created = create_topic(r.topic, r.partition_count, r.configs, fx);
          if (!created) return created;
          return Response(CreateTopicExResponse{});
        }
        else if constexpr (std::is_same_v<T, ListTopicsRequest>) return list_topics();
        else if constexpr (std::is_same_v<T, DescribeTopicRequest>) return describe_topic(r);
        else if constexpr (std::is_same_v<T, DescribePartitionRequest>) return describe_partition(r);
        else if constexpr (std::is_same_v<T, DescribeTopicConfigRequest>) return describe_topic_config(r);
        else if constexpr (std::is_same_v<T, DeleteTopicRequest>) return delete_topic(r, now_us, fx);
        else if constexpr (std::is_same_v<T, ListOffsetsRequest>) return list_offsets(r);
        else if constexpr (std::is_same_v<T, MetricsFetchRequest>) return Response(MetricsResponse{render_metrics()});
        else if constexpr (std::is_same_v<T, PingRequest>) return Response(PongResponse{});
        else if constexpr (std::is_same_v<T, HandshakeRequest>) {
          HandshakeResponse h;
          h.server_version = kServerVersion;
          h.max_frame_bytes = cfg_.max_frame_bytes;
          auto types = supported_request_types();
          h.supported_types.assign(types.begin(), types.end());
          return Response(std::move(h));
        } else if constexpr (std::is_same_v<T, ListGroupsRequest>) return Response(ListGroupsResponse{offsets_->groups()});
        else if constexpr (std::is_same_v<T, DescribeGroupRequest>) return describe_group(r);
        else if constexpr (std::is_same_v<T, DeleteGroupRequest>) return delete_group(r, now_us, fx);
        else return Status(ErrorCode::kInvalidRequest, "unsupported request");
      },
      req);
}

Broker::Out Broker::offset_commit(const OffsetCommitRequest& r, int64_t now_us, Effects& fx) {
  auto p = registry_->partition(r.topic, r.partition);
  if (!p) return p.status();
  // Validated against the end reads use: a commit can never point past
  // what a fetch on the same connection would return.
  // A partition whose fsync failed holds for sure only what it made durable.
  const uint64_t end = (*p)->read_only() ? std::min(visible_end(**p), (*p)->recovery_point()) : visible_end(**p);
  if (r.offset > end)
    return Status(ErrorCode::kOffsetOutOfRange,
                  "cannot commit offset " + std::to_string(r.offset) + " for " + r.topic + "/" +
                      std::to_string(r.partition) + ": valid offsets are " +
                      std::to_string((*p)->log_start_offset()) + ".." + std::to_string(end));
  RUSTLOG_RETURN_IF_ERROR(offsets_->commit({r.group, r.topic, r.partition}, r.offset, now_us));
  fx.wait_flush = offsets_->log();
  note_appended(offsets_->log());
  return Response(OffsetCommitResponse{true});
}

Broker::Out Broker::offset_fetch(const OffsetFetchRequest& r) {
  auto p = registry_->partition(r.topic, r.partition);
  if (!p) return p.status();
  return Response(OffsetFetchResponse{offsets_->committed({r.group, r.topic, r.partition})});
}

}  // namespace rustlog
