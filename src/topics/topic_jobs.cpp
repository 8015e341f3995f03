// Topic create and delete, in bounded steps (topic_job.h). Every unit is
// ordered so that a kill -9 or power loss between any two leaves a state the
// next start resolves without guessing (topic_lifecycle.cpp): the markers
// written here (data_dir.h) record what the broker decided.
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <filesystem>

#include "common/clock.h"
#include "common/crash_point.h"
#include "storage/file.h"
#include "topics/data_dir.h"
#include "topics/topic_job.h"
#include "topics/topic_registry.h"

namespace rustlog {

namespace fs = std::filesystem;

TopicJob::~TopicJob() = default;

namespace {

// An empty marker file, durable before the caller's next step.
Status write_marker(const std::string& dir, const std::string& name) {
  auto f = File::open(dir + "/" + name, O_WRONLY | O_CREAT);
  if (!f) return f.status();
  f->close();
  return fsync_dir(dir);
}

// Frees a deleted partition's space but keeps the directory and its marker,
// which the next start needs until topics.json no longer lists the topic.
Status empty_except_marker(const std::string& dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string n = e.path().filename().string();
    if (n.starts_with(kDeleteMarkerPrefix)) continue;
    RUSTLOG_RETURN_IF_ERROR(remove_tree(e.path().string()));
  }
  if (ec) return Status(ErrorCode::kStorageError, "cannot empty " + dir + ": " + ec.message());
  return Status::ok();
}

bool dir_is_empty(const std::string& dir) {
  std::error_code ec;
  return fs::is_empty(dir, ec) && !ec;
}

}  // namespace

Status TopicRegistry::check_not_busy(const std::string& name) const {
  auto it = busy_.find(name);
  if (it == busy_.end()) return Status::ok();
  return Status(ErrorCode::kTopicExists, "topic '" + name + "' is being " +
                                             (it->second == TopicJob::Kind::kCreate ? "created" : "deleted") +
                                             "; try again once that request is answered");
}

Result<std::unique_ptr<TopicJob>> TopicRegistry::begin_create(const std::string& name, const TopicConfig& config) {
  RUSTLOG_RETURN_IF_ERROR(check_not_busy(name));
  if (topics_.count(name))
    return Status(ErrorCode::kTopicExists, "topic '" + name + "' already exists");
  // Never build on, or remove, a directory the broker did not make for this
  // create: an empty one is used, anything else refuses the create.
  for (uint32_t p = 0; p < config.partitions; ++p) {
    const std::string dir = data_dir_ + "/" + partition_dir_name(name, p);
    if (path_exists(dir) && !dir_is_empty(dir))
      return Status(ErrorCode::kTopicExists,
                    "cannot create topic '" + name + "': " + dir +
                        " already exists and belongs to no topic; it was left as it is (move it "
                        "away, or restart with --recover-topics to adopt it)");
  }
  auto job = std::make_unique<TopicJob>(TopicJob::Kind::kCreate, name);
  job->topic_ = std::make_unique<Topic>();
  job->topic_->name = name;
  job->topic_->config = config;
  job->partitions_ = config.partitions;
  busy_[name] = job->kind();
  return job;
}

Result<std::unique_ptr<TopicJob>> TopicRegistry::begin_delete(const std::string& name,
                                                              std::function<void(const Topic&)> before_close) {
  RUSTLOG_RETURN_IF_ERROR(check_not_busy(name));
  auto it = topics_.find(name);
  if (it == topics_.end()) return Status(ErrorCode::kTopicNotFound, "topic '" + name + "' does not exist");
  auto job = std::make_unique<TopicJob>(TopicJob::Kind::kDelete, name);
  job->partitions_ = it->second->config.partitions;
  job->before_close_ = std::move(before_close);
  // Out of the list at once (nothing new is appended to or read from its
  // logs), but still in the metadata a compaction writes until the delete
  // is decided.
  deciding_[name] = it->second->config;
  job->topic_ = std::move(it->second);
  topics_.erase(it);
  busy_[name] = job->kind();
  return job;
}

Result<bool> TopicRegistry::step(TopicJob& job, int64_t deadline_ns) {
  if (job.done()) return true;
  bool first = true;
  while (!job.done()) {
    if (!first && deadline_ns != 0 && steady_ns() >= deadline_ns) return false;
    first = false;
    Status st = job.kind() == TopicJob::Kind::kCreate ? create_unit(job) : delete_unit(job);
    ++job.units_;
    if (!st) {
      job.phase_ = TopicJob::Phase::kDone;
      busy_.erase(job.name_);
      deciding_.erase(job.name_);
      return st;
    }
  }
  busy_.erase(job.name_);
  return true;
}

// On failure the create is undone: its logs closed, its directories removed.
Status TopicRegistry::create_unit(TopicJob& j) {
  using P = TopicJob::Phase;
  auto undo = [&](Status st) {
    if (j.topic_) j.topic_->partitions.clear();
    for (const auto& d : j.dirs_) (void)remove_tree(d);
    return st;
  };
  switch (j.phase_) {
    case P::kMark: {  // 1. every partition directory is marked CREATING before it holds a segment
      const std::string dir = data_dir_ + "/" + partition_dir_name(j.name_, j.next_);
      if (Status st = make_dirs(dir); !st) return undo(st);
      j.dirs_.push_back(dir);
      if (Status st = write_marker(dir, kCreatingMarker); !st) return undo(st);
      if (++j.next_ < j.partitions_) return Status::ok();
      crash_point("topic-create:marked");
      j.phase_ = P::kOpen;
      j.next_ = 0;
      return Status::ok();
    }
    case P::kOpen: {
      auto log = open_partition(*j.topic_, j.next_, {}, nullptr);
      if (!log) return undo(log.status());
      j.topic_->partitions.push_back(std::move(*log));
      if (++j.next_ == j.partitions_) j.phase_ = P::kCommit;
      return Status::ok();
    }
    case P::kCommit: {  // 2. the metadata commits the topic (one record in topics.log)
      if (Status st = fsync_dir(data_dir_); !st) return undo(st);
      crash_point("topic-create:opened");
      topics_[j.name_] = std::move(j.topic_);  // listed: find() returns it from here on
      if (Status st = commit_metadata(j.name_); !st) {
        j.topic_ = std::move(topics_[j.name_]);
        topics_.erase(j.name_);
        return undo(st);
      }
      crash_point("topic-create:committed");
      j.phase_ = P::kUnmark;
      j.next_ = 0;
      return Status::ok();
    }
    case P::kUnmark: {  // 3. the markers go (one left behind is removed at the next start)
      const std::string marker = j.dirs_[j.next_] + "/" + kCreatingMarker;
      if (Status st = remove_file(marker); !st) spdlog::warn("{}", st.message());
      if (++j.next_ == j.dirs_.size()) j.phase_ = P::kDone;
      return Status::ok();
    }
    default: return Status(ErrorCode::kInternal, "topic create job in a delete phase");
  }
}

// Before the decision (every partition marked) a failure leaves the topic
// as it was; after it the delete happens, now or at the next start, and
// failures are only logged.
Status TopicRegistry::delete_unit(TopicJob& j) {
  using P = TopicJob::Phase;
  const std::string marker = std::string(kDeleteMarkerPrefix) + j.name_;
  switch (j.phase_) {
    case P::kMark: {  // 1. the decision: a marker in every partition directory
      const std::string dir = data_dir_ + "/" + partition_dir_name(j.name_, j.next_);
      if (path_exists(dir)) {
        if (Status st = write_marker(dir, marker); !st) {
          for (uint32_t q = 0; q <= j.next_; ++q)
            (void)remove_file(data_dir_ + "/" + partition_dir_name(j.name_, q) + "/" + marker);
          deciding_.erase(j.name_);
          topics_[j.name_] = std::move(j.topic_);
          return st;
        }
      }
      if (++j.next_ < j.partitions_) return Status::ok();
      crash_point("topic-delete:marked");
      deciding_.erase(j.name_);  // from here on the delete happens, now or at the next start
      j.phase_ = P::kClose;
      j.next_ = 0;
      return Status::ok();
    }
    case P::kClose:
      if (j.before_close_) j.before_close_(*j.topic_);
      j.topic_.reset();  // closes the logs (descriptors and mappings)
      j.phase_ = P::kRename;
      return Status::ok();
    case P::kRename: {  // 2. out of the topic's namespace, so the name can be reused at once
      const std::string dir = data_dir_ + "/" + partition_dir_name(j.name_, j.next_);
      std::string target;
      do target = data_dir_ + "/" + deleted_dir_name(next_delete_id_++, j.next_);
      while (path_exists(target));
      if (Status rs = rename_path(dir, target); !rs) {
        spdlog::warn("{}; removing it in place", rs.message());
        if (Status st = remove_tree(dir); !st) spdlog::warn("{} (finished at the next start)", st.message());
      } else {
        j.dirs_.push_back(target);
      }
      if (++j.next_ < j.partitions_) return Status::ok();
      if (Status st = fsync_dir(data_dir_); !st)
        spdlog::warn("{} (the delete is finished at the next start)", st.message());
      crash_point("topic-delete:renamed");
      j.phase_ = j.dirs_.empty() ? P::kForget : P::kEmpty;
      j.next_ = 0;
      return Status::ok();
    }
    case P::kEmpty:  // 3. free the space first, so a full disk can still commit the delete
      if (Status st = empty_except_marker(j.dirs_[j.next_]); !st) spdlog::warn("{}", st.message());
      if (++j.next_ < j.dirs_.size()) return Status::ok();
      crash_point("topic-delete:emptied");
      j.phase_ = P::kForget;
      return Status::ok();
    case P::kForget:  // 4. the metadata without the topic; the directories go after it is written
      deleted_dirs_.insert(deleted_dirs_.end(), j.dirs_.begin(), j.dirs_.end());
      if (Status st = commit_metadata(j.name_); !st)
        spdlog::warn("topic '{}' is deleted but {} could not be written ({}); the next successful write "
                     "or start finishes the delete",
                     j.name_, kTopicLogFile, st.message());
      crash_point("topic-delete:committed");
      j.phase_ = P::kDone;
      return Status::ok();
    default: return Status(ErrorCode::kInternal, "topic delete job in a create phase");
  }
}

Result<Topic*> TopicRegistry::create(const std::string& name, const TopicConfig& config) {
  auto job = begin_create(name, config);
  if (!job) return job.status();
  auto done = step(**job, /*deadline_ns=*/0);
  if (!done) return done.status();
  return find(name);
}

Status TopicRegistry::remove(const std::string& name) {
  auto job = begin_delete(name);
  if (!job) return job.status();
  auto done = step(**job, /*deadline_ns=*/0);
  return done ? Status::ok() : done.status();
}

}  // namespace rustlog
