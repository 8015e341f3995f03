#pragma once
// A topic create or delete done in bounded steps (TopicRegistry::step), so
// the event loop serves other clients between two steps of a create or
// delete of many partitions. A unit of work is one partition's directory
// and marker, one partition's log opened, one rename, one emptied
// directory, or the metadata commit; a step does units until its deadline
// has passed, at least one. The units run in the order, and with the crash
// points, of a create or delete done at once (topic_registry.h, "Crash
// safety"): stepping changes when they run, not what a crash can leave.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace rustlog {

struct Topic;

class TopicJob {
 public:
  enum class Kind : uint8_t { kCreate, kDelete };
  TopicJob(Kind kind, std::string topic) : kind_(kind), name_(std::move(topic)) {}
  ~TopicJob();
  TopicJob(const TopicJob&) = delete;
  TopicJob& operator=(const TopicJob&) = delete;

  Kind kind() const { return kind_; }
  const std::string& topic() const { return name_; }
  bool done() const { return phase_ == Phase::kDone; }
  // Units done so far (for tests and the step metric).
  uint64_t units() const { return units_; }

 private:
  friend class TopicRegistry;
  enum class Phase : uint8_t {
    kMark,    // create: directory + CREATING marker; delete: the delete marker (the decision)
    kOpen,    // create: each partition's log
    kCommit,  // create: the data dir fsynced, the topic listed and committed
    kUnmark,  // create: the CREATING markers removed
    kClose,   // delete: the logs closed (after the owner let go of them)
    kRename,  // delete: each directory out of the topic's namespace
    kEmpty,   // delete: each renamed directory's files removed
    kForget,  // delete: the metadata without the topic
    kDone,
  };
  Kind kind_;
  std::string name_;
  Phase phase_ = Phase::kMark;
  uint32_t next_ = 0;  // the partition (or directory) the phase goes on with
  uint64_t units_ = 0;
  // Create: the topic being built (listed at kCommit). Delete: the topic
  // taken out of the list at the start (nothing new reaches its logs).
  std::unique_ptr<Topic> topic_;
  uint32_t partitions_ = 0;
  std::vector<std::string> dirs_;  // create: directories made; delete: renamed ones
  // Delete: called once, just before the logs are closed.
  std::function<void(const Topic&)> before_close_;
};

}  // namespace rustlog
