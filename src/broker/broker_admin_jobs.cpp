// Topic creates and deletes as jobs in bounded steps (broker.h, "topic
// creates and deletes in bounded steps"; the units are in
// topics/topic_jobs.cpp). A create of 1000 partitions is thousands of
// fsyncs: done in one loop turn it kept every client waiting for seconds;
// here each turn does one step of it, for up to --max-turn-us, and serves
// the other connections between two steps. The jobs run one at a time, in
// the order their requests arrived, each started (its checks that need the
// state: does the topic exist?) once the one before it is done.
#include <spdlog/spdlog.h>

#include "broker/broker.h"
#include "common/clock.h"
#include "protocol/codec.h"

namespace rustlog {

using namespace protocol;

uint64_t Broker::queue_admin(bool create, const std::string& topic, TopicConfig config) {
  AdminJob& a = admin_jobs_.emplace_back();
  a.id = next_admin_job_++;
  a.create = create;
  a.topic = topic;
  a.config = std::move(config);
  return a.id;
}

Status Broker::start_admin(AdminJob& a, int64_t now_us) {
  if (a.create) {
    auto job = registry_->begin_create(a.topic, a.config);
    if (!job) return job.status();
    a.job = std::move(*job);
    return Status::ok();
  }
  Topic* t = registry_->find(a.topic);
  if (!t) return Status(ErrorCode::kTopicNotFound, "topic '" + a.topic + "' does not exist");
  // 1. The groups' tombstones, durably, before anything else changes: if
  // they cannot be written the topic stays as it was (a re-created topic
  // must never inherit old offsets).
  a.offsets_before = offsets_->topic_offsets(a.topic);
  auto n = offsets_->delete_topic(a.topic, now_us);
  if (!n) return n.status();
  a.offsets_removed = *n;
  if (*n > 0) {
    if (Status st = offsets_->log()->flush(); !st) {
      fail_delete(a, st, now_us);
      return st;
    }
    offsets_->apply_durable();
  }
  // 2. The topic itself, out of the list from here on. The cleaner lets go
  // of its logs at once (abandoning a pass), the rest of the broker just
  // before they are closed: appends to them earlier must not be flushed
  // after that, and answers waiting for them are released (flush_result:
  // ok once a log is gone).
  for (const auto& p : t->partitions) cleaner_forget(p.get());
  auto job = registry_->begin_delete(a.topic, [this](const Topic& gone) {
    std::vector<const PartitionLog*> logs;
    for (const auto& p : gone.partitions) logs.push_back(p.get());
    forget_logs(logs);
  });
  if (!job) {
    fail_delete(a, job.status(), now_us);
    return job.status();
  }
  a.job = std::move(*job);
  return Status::ok();
}

// A delete that failed before it was decided: the topic is listed as it
// was; the cleaner takes its partitions again and the offsets are written
// back.
void Broker::fail_delete(AdminJob& a, const Status& st, int64_t now_us) {
  if (Topic* still = registry_->find(a.topic)) cleaner_track(*still);
  for (const auto& [k, v] : a.offsets_before) {
    Status undo = offsets_->commit(k, v, now_us);
    if (undo) undo = offsets_->log()->flush();
    if (!undo) {
      spdlog::error("delete of topic {} failed ({}) and its offset for group {} could not be restored: {}",
                    a.topic, st.message(), k.group, undo.message());
      break;
    }
  }
  offsets_->apply_durable();
}

std::string Broker::finish_admin(AdminJob& a, const Status& st) {
  if (!st) {
    metrics_.on_error(a.type, st.code());
    return encode_error_for(a.type, a.handshaken, st);
  }
  std::string frame;
  Response resp = DeleteTopicResponse{};
  if (a.create) {
    if (Topic* t = registry_->find(a.topic)) track_partitions(*t);
    spdlog::info("created topic {} with {} partitions", a.topic, a.config.partitions);
    if (a.type == static_cast<uint8_t>(MessageType::kCreateTopicEx))
      resp = CreateTopicExResponse{};
    else
      resp = CreateTopicResponse{true};
  } else {
    spdlog::info("deleted topic {} ({} committed offsets removed)", a.topic, a.offsets_removed);
  }
  if (Status es = encode_response(resp, frame, cfg_.max_frame_bytes); !es)
    return encode_error_for(a.type, a.handshaken, es);
  return frame;
}

std::vector<Broker::AdminDone> Broker::admin_step(int64_t now_us, bool all) {
  std::vector<AdminDone> done;
  const int64_t deadline = all ? 0 : steady_ns() + static_cast<int64_t>(cfg_.max_turn_us) * 1000;
  while (!admin_jobs_.empty()) {
    AdminJob& a = admin_jobs_.front();
    Status st;
    bool finished = false;
    if (!a.job) {
      st = start_admin(a, now_us);
      finished = !st;
    }
    if (st) {
      auto r = registry_->step(*a.job, deadline);
      metrics_.admin_steps.inc();
      metrics_dirty_ = true;
      if (!r) {
        st = r.status();
        if (!a.create && registry_->find(a.topic)) fail_delete(a, st, now_us);
        finished = true;
      } else {
        finished = *r;
      }
    }
    if (!finished) break;  // this turn's step is over
    done.push_back({a.id, finish_admin(a, st)});
    admin_jobs_.pop_front();
    if (!all && deadline != 0 && steady_ns() >= deadline) break;
  }
  return done;
}

}  // namespace rustlog
