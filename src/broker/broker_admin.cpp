// The admin and metadata handlers of Broker: topics (create, list,
// describe, delete), ListOffsets, and consumer groups (describe, delete).
// The data path (produce, commit, dispatch) is in broker.cpp, fetches in
// broker_fetch.cpp.
#include "broker/broker.h"

#include <spdlog/spdlog.h>

#include "topics/topic_name.h"

namespace rustlog {

using namespace protocol;

Broker::Out Broker::create_topic(const std::string& name, uint32_t partitions,
                                 const std::vector<ConfigEntry>& configs, Effects& fx) {
  RUSTLOG_RETURN_IF_ERROR(validate_topic_name(name));
  if (is_internal_topic(name))
    return Status(ErrorCode::kInvalidRequest, "topic names beginning with '__' are reserved for internal topics");
  TopicConfig c = cfg_.topic_defaults;
  c.partitions = partitions;
  for (const auto& e : configs) RUSTLOG_RETURN_IF_ERROR(c.set(e.key, e.value));
  if (partitions < 1 || partitions > cfg_.max_partitions) fx.v0_code = V0Code::kInvalidPartitionCount;
  if (partitions > cfg_.max_partitions) metrics_.partition_limit_refusals.inc();
  RUSTLOG_RETURN_IF_ERROR(c.validate(cfg_.max_partitions));
  if (Status st = check_segment_floors(c, cfg_.segment_floors); !st) {
    metrics_.segment_floor_refusals.inc();
    return st;
  }
  // The rest (is the name free? the directories, logs and metadata) runs
  // as a job, in steps (broker_admin_jobs.cpp).
  fx.admin_job = queue_admin(/*create=*/true, name, std::move(c));
  return Response(CreateTopicResponse{true});  // not sent: admin_step answers
}

Broker::Out Broker::list_topics() {
  ListTopicsResponse resp;
  for (const auto& [name, t] : registry_->topics())
    if (!is_internal_topic(name)) resp.topics.push_back({name, t->config.partitions});
  return Response(std::move(resp));
}

Broker::Out Broker::describe_topic(const DescribeTopicRequest& r) {
  Topic* t = registry_->find(r.topic);
  if (!t) return Status(ErrorCode::kTopicNotFound, "topic '" + r.topic + "' does not exist");
  DescribeTopicResponse resp;
  resp.topic = t->name;
  resp.partition_count = t->config.partitions;
  for (uint32_t i = 0; i < t->partitions.size(); ++i)
    resp.partitions.push_back({i, visible_end(*t->partitions[i])});
  return Response(std::move(resp));
}

Broker::Out Broker::describe_partition(const DescribePartitionRequest& r) {
  auto p = registry_->partition(r.topic, r.partition);
  if (!p) return p.status();
  return Response(DescribePartitionResponse{r.topic, r.partition, visible_end(**p)});
}

Broker::Out Broker::describe_topic_config(const DescribeTopicConfigRequest& r) {
  Topic* t = registry_->find(r.topic);
  if (!t) return Status(ErrorCode::kTopicNotFound, "topic '" + r.topic + "' does not exist");
  DescribeTopicConfigResponse resp;
  resp.partition_count = t->config.partitions;
  for (const auto& [k, v] : t->config.to_pairs()) resp.configs.push_back({k, v});
  for (uint32_t i = 0; i < t->partitions.size(); ++i) {
    const PartitionLog& l = *t->partitions[i];
    resp.partitions.push_back({i, l.log_start_offset(), visible_end(l),
                               static_cast<uint32_t>(l.segment_count()), l.size_bytes()});
  }
  return Response(std::move(resp));
}

Broker::Out Broker::delete_topic(const DeleteTopicRequest& r, int64_t now_us, Effects& fx) {
  (void)now_us;
  if (is_internal_topic(r.topic) && registry_->find(r.topic))
    return Status(ErrorCode::kInvalidRequest, "internal topic '" + r.topic + "' cannot be deleted");
  fx.admin_job = queue_admin(/*create=*/false, r.topic, {});
  return Response(DeleteTopicResponse{});  // not sent: admin_step answers
}

Broker::Out Broker::list_offsets(const ListOffsetsRequest& r) {
  auto p = registry_->partition(r.topic, r.partition);
  if (!p) return p.status();
  PartitionLog& l = **p;
  if (r.spec == kListOffsetsEarliest) return Response(ListOffsetsResponse{l.log_start_offset(), true});
  if (r.spec == kListOffsetsLatest) return Response(ListOffsetsResponse{visible_end(l), true});
  auto o = l.offset_for_time(r.spec);
  if (!o) return o.status();
  const uint64_t end = visible_end(l);
  if (*o >= end) return Response(ListOffsetsResponse{end, false});
  return Response(ListOffsetsResponse{*o, true});
}

Broker::Out Broker::describe_group(const DescribeGroupRequest& r) {
  auto entries = offsets_->group_offsets(r.group);
  if (entries.empty()) return Status(ErrorCode::kGroupNotFound, "group '" + r.group + "' has no committed offsets");
  DescribeGroupResponse resp;
  for (const auto& [k, off] : entries) {
    PartitionLog* l = log_for(k.topic, k.partition);
    const uint64_t hw = l ? visible_end(*l) : 0;
    resp.partitions.push_back({k.topic, k.partition, off, hw, hw > off ? hw - off : 0});
  }
  return Response(std::move(resp));
}

Broker::Out Broker::delete_group(const DeleteGroupRequest& r, int64_t now_us, Effects& fx) {
  auto n = offsets_->delete_group(r.group, now_us);
  if (!n) return n.status();
  if (*n == 0) return Status(ErrorCode::kGroupNotFound, "group '" + r.group + "' has no committed offsets");
  fx.wait_flush = offsets_->log();
  note_appended(offsets_->log());
  return Response(DeleteGroupResponse{});
}

}  // namespace rustlog
