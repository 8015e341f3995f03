#pragma once
// The write paths the power-loss explorer (support/crash_explorer.h) runs:
// append + roll, the recovery-point checkpoint, topic create and delete, and
// offset commits. Each reopens the storage on a crash state the way the
// broker does and asserts:
//   - every record / commit / create / delete acknowledged before the crash
//     is there, records byte-identical at their offsets;
//   - nothing unacknowledged appears as garbage (every batch in a log is the
//     one the workload appended at that offset);
//   - `rustlog verify` (admin::verify_data_dir) finds no problem;
//   - metadata files (topics.json, the recovery checkpoint) hold one of the
//     versions written, entirely old or entirely new.
// Retention deletion is in support/power_loss_retention.h, the compaction
// swap in support/power_loss_compaction.h.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "admin/verify.h"
#include "offsets/offset_store.h"
#include "storage/recovery_checkpoint.h"
#include "support/crash_explorer.h"
#include "support/crash_harness.h"
#include "support/log_helpers.h"
#include "topics/topic_registry.h"

namespace rustlog::test {

inline constexpr uint32_t kPowerLossIndexInterval = 256;

inline LogConfig power_loss_log_config() {
  LogConfig c = small_config(2048, kPowerLossIndexInterval);  // a roll every few batches
  c.flush = FlushPolicy{};                                     // always
  return c;
}

inline GenOptions power_loss_batch_options() {
  GenOptions o;
  o.max_records = 4;
  o.max_value = 200;
  return o;
}

inline TopicConfig power_loss_topic(uint32_t partitions) {
  TopicConfig c;
  c.partitions = partitions;
  EXPECT_TRUE(c.set("segment.bytes", "2048").is_ok());
  EXPECT_TRUE(c.set("index.interval.bytes", std::to_string(kPowerLossIndexInterval)).is_ok());
  EXPECT_TRUE(c.set("flush", "always").is_ok());
  return c;
}

// verify_data_dir finds no problem (a data dir with no partition at all is
// fine). Without topics.json, the index interval the logs were written with.
inline void expect_verify_clean(const std::string& root, std::optional<uint32_t> index_interval = std::nullopt) {
  bool any = false;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root))
    any = any || (e.is_directory() && admin::is_partition_dir(e.path().string()));
  if (!any) return;
  admin::VerifyOptions opt;
  opt.index_interval_bytes = index_interval;
  auto r = admin::verify_data_dir(root, opt);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  for (const auto& p : r->partitions)
    for (const auto& problem : p.all_problems()) ADD_FAILURE() << "verify: " << problem;
}

inline std::string describe_segments(const PartitionLog& log) {
  std::string out;
  for (const auto& s : log.segments())
    out += std::to_string(s->base_offset()) + ".." + std::to_string(s->next_offset()) + " (" +
           std::to_string(s->size_bytes()) + " bytes) ";
  return out;
}

// The batches of `log` are exactly deterministic_batch(seed, ...) from offset
// 0 and reach past `acked_last` when set (crash_harness.h's check).
inline void expect_log(PartitionLog& log, uint64_t seed, std::optional<uint64_t> acked_last) {
  CrashRound cr;
  cr.any_acked = acked_last.has_value();
  cr.acked = acked_last.value_or(0);
  // verify_crash_log uses crash_batch_options(); these workloads use their own.
  if (cr.any_acked) {
    ASSERT_GT(log.high_watermark(), cr.acked) << "acknowledged offset " << cr.acked << " lost";
  }
  uint64_t off = 0;
  while (off < log.high_watermark()) {
    auto r = log.read(off, 1 << 20);
    ASSERT_TRUE(r.is_ok()) << "read at " << off << ": " << r.status().to_string();
    ASSERT_FALSE(r->data.empty()) << "read at " << off << " below the high watermark " << log.high_watermark()
                                  << " returned nothing; segments: " << describe_segments(log);
    for (const auto& b : split_batches(r->data)) {
      BatchHeader h;
      ASSERT_EQ(parse_batch_header(reinterpret_cast<const uint8_t*>(b.data()), b.size(), &h), BatchError::kOk);
      ASSERT_EQ(h.base_offset, off) << "offsets not dense";
      ASSERT_TRUE(same_bytes(b, deterministic_batch(seed, off, power_loss_batch_options())))
          << "batch at " << off << (cr.any_acked && off <= cr.acked ? " (acknowledged)" : " (not acknowledged)");
      off = h.next_offset();
    }
  }
}

inline uint64_t append_flushed(PartitionLog& log, uint64_t seed) {
  const uint64_t base = log.high_watermark();
  std::string batch = deterministic_batch(seed, base, power_loss_batch_options());
  auto r = log.append(batch, kBaseTimestampUs + static_cast<int64_t>(base) * 1000);
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_TRUE(log.flush().is_ok());
  return r.is_ok() ? r->last_offset : 0;
}

// Appends to one partition log (segments of 2 KiB: several rolls), flushing
// after every second append; each flush acknowledges what it covers.
class AppendRollWorkload : public PowerLossWorkload {
 public:
  explicit AppendRollWorkload(int appends) : appends_(appends) {}
  std::string name() const override { return "append+roll"; }
  void setup(const std::string& root) override { std::filesystem::create_directory(root + "/t-0"); }
  void run(const std::string& root, const std::function<void()>& ack) override {
    auto log = open_log(root + "/t-0", power_loss_log_config(), 0);
    ASSERT_NE(log, nullptr);
    for (int i = 0; i < appends_; ++i) {
      const uint64_t base = log->high_watermark();
      std::string batch = deterministic_batch(kSeed, base, power_loss_batch_options());
      auto r = log->append(batch, kBaseTimestampUs + static_cast<int64_t>(base) * 1000);
      ASSERT_TRUE(r.is_ok()) << r.status().to_string();
      if (i % 2 == 1 || i + 1 == appends_) {
        ASSERT_TRUE(log->flush().is_ok());
        acked_.push_back(r->last_offset);
        ack();
      }
    }
    ASSERT_GE(log->segment_count(), 3u);
  }
  void check(const std::string& root, size_t acked) override {
    auto log = open_log(root + "/t-0", power_loss_log_config(), 0);
    ASSERT_NE(log, nullptr);
    expect_log(*log, kSeed, acked ? std::optional<uint64_t>(acked_[acked - 1]) : std::nullopt);
    log.reset();
    expect_verify_clean(root, kPowerLossIndexInterval);
  }

 private:
  static constexpr uint64_t kSeed = 1501;
  int appends_;
  std::vector<uint64_t> acked_;
};

// Appends to two partitions of a topic and writes the recovery-point
// checkpoint after every third append; reopening uses the checkpoint, so a
// checkpoint that claimed more than was durable would skip a torn tail.
class CheckpointWorkload : public PowerLossWorkload {
 public:
  explicit CheckpointWorkload(int appends) : appends_(appends) {}
  std::string name() const override { return "recovery-point checkpoint"; }
  void setup(const std::string& root) override {
    TopicRegistry reg(root, 16);
    ASSERT_TRUE(reg.open(nullptr).is_ok());
    ASSERT_TRUE(reg.create("t", power_loss_topic(2)).is_ok());
  }
  void run(const std::string& root, const std::function<void()>& ack) override {
    TopicRegistry reg(root, 16);
    ASSERT_TRUE(reg.open(nullptr).is_ok());
    for (int i = 0; i < appends_; ++i) {
      const uint32_t p = static_cast<uint32_t>(i % 2);
      auto log = reg.partition("t", p);
      ASSERT_TRUE(log.is_ok());
      acked_.push_back({p, append_flushed(**log, kSeed + p)});
      ack();
      if (i % 3 == 2) {
        ASSERT_TRUE(reg.checkpoint().is_ok());
        versions_.insert(read_bytes(root + "/" + kRecoveryCheckpointFile));
      }
    }
  }
  void check(const std::string& root, size_t acked) override {
    const std::string cp = root + "/" + kRecoveryCheckpointFile;
    if (path_exists(cp)) {
      ASSERT_TRUE(versions_.count(read_bytes(cp))) << "checkpoint is neither old nor new";
    }
    TopicRegistry reg(root, 16);
    ASSERT_TRUE(reg.open(nullptr).is_ok());
    for (uint32_t p = 0; p < 2; ++p) {
      std::optional<uint64_t> last;
      for (size_t i = 0; i < acked; ++i)
        if (acked_[i].first == p) last = acked_[i].second;
      auto log = reg.partition("t", p);
      ASSERT_TRUE(log.is_ok());
      expect_log(**log, kSeed + p, last);
    }
    ASSERT_TRUE(reg.checkpoint().is_ok());  // what a clean shutdown writes next
    expect_verify_clean(root);
  }

 private:
  static constexpr uint64_t kSeed = 1502;
  int appends_;
  std::vector<std::pair<uint32_t, uint64_t>> acked_;
  std::set<std::string> versions_;
};

// Creates a topic, appends, creates a second, deletes the first and creates
// it again with another partition count; every create and delete is
// acknowledged when it returns. `compact_every` lowers the bound at which
// topics.log is compacted into topics.json (so the run crosses compactions);
// `from_old_snapshot` starts from a data directory whose topics.json was
// written before topics.log existed (the upgrade path), holding topic "old".
class TopicLifecycleWorkload : public PowerLossWorkload {
 public:
  explicit TopicLifecycleWorkload(uint64_t compact_every = TopicMetadataLog::kMinCompactRecords,
                                  bool from_old_snapshot = false)
      : compact_every_(compact_every), from_old_snapshot_(from_old_snapshot) {}
  std::string name() const override {
    return "topic create/delete (compaction every " + std::to_string(compact_every_) + " records" +
           (from_old_snapshot_ ? ", from a topics.json without topics.log)" : ")");
  }
  void setup(const std::string& root) override {
    if (!from_old_snapshot_) return;
    std::filesystem::create_directories(root + "/old-0");
    write_bytes(root + "/" + kTopicMetadataFile,
                "{\n  \"topics\": {\n    \"old\": {\n      \"partitions\": 1\n    }\n  },\n  \"version\": 1\n}\n");
    versions_.back()["old"] = {1, generation_++};
  }
  void run(const std::string& root, const std::function<void()>& ack) override {
    TopicRegistry reg(root, 16);
    reg.set_min_compact_records(compact_every_);
    ASSERT_TRUE(reg.open(nullptr).is_ok());
    auto create = [&](const std::string& name, uint32_t partitions) {
      ASSERT_TRUE(reg.create(name, power_loss_topic(partitions)).is_ok());
      next_version({{name, partitions}}, {});
      ack();
    };
    auto produce = [&](const std::string& name, uint32_t p) {
      auto log = reg.partition(name, p);
      ASSERT_TRUE(log.is_ok());
      const Incarnation inc{name, versions_.back().at(name).second, p};
      acks_.push_back(Ack{-1, inc, append_flushed(**log, seed_of(inc))});
      ack();
    };
    ASSERT_NO_FATAL_FAILURE(create("a", 2));
    for (int i = 0; i < 2; ++i)
      for (uint32_t p = 0; p < 2; ++p) ASSERT_NO_FATAL_FAILURE(produce("a", p));
    ASSERT_NO_FATAL_FAILURE(create("b", 1));
    ASSERT_NO_FATAL_FAILURE(produce("b", 0));
    ASSERT_TRUE(reg.remove("a").is_ok());
    next_version({}, {"a"});
    ack();
    ASSERT_NO_FATAL_FAILURE(create("a", 1));
    ASSERT_NO_FATAL_FAILURE(produce("a", 0));
    ASSERT_NO_FATAL_FAILURE(produce("b", 0));
  }
  void check(const std::string& root, size_t acked) override {
    int min_version = 0;
    for (size_t i = 0; i < acked; ++i) min_version = std::max(min_version, acks_[i].version);
    // The metadata (topics.json and topics.log, read without changing them)
    // is one of the versions written, not older than the last acknowledged.
    int v = 0;
    auto meta = read_topic_metadata(root);
    ASSERT_TRUE(meta.is_ok()) << meta.status().to_string();
    if (meta->present) {
      std::map<std::string, uint32_t> names;
      for (const auto& [name, cfg] : meta->topics) names[name] = cfg.partitions;
      // The first version not older than the last acknowledged one that matches.
      v = -1;
      for (int i = min_version; i < static_cast<int>(versions_.size()) && v < 0; ++i)
        if (partitions_of(i) == names) v = i;
      ASSERT_GE(v, 0) << "the metadata is none of the versions written since the last acknowledged one";
    }
    ASSERT_GE(v, min_version) << "an acknowledged create or delete was lost";
    TopicRegistry reg(root, 16);
    ASSERT_TRUE(reg.open(nullptr).is_ok());
    // The topics the broker opened: topics.json's version, or a later one (a
    // delete is decided by its markers before topics.json is rewritten, so
    // the next start may finish it).
    std::map<std::string, uint32_t> opened;
    for (const auto& [name, t] : reg.topics()) opened[name] = t->config.partitions;
    int w = -1;
    for (int i = v; i < static_cast<int>(versions_.size()) && w < 0; ++i)
      if (partitions_of(i) == opened) w = i;
    ASSERT_GE(w, 0) << "the topics opened are no version at or after topics.json's";
    std::set<std::string> claimed;
    for (const auto& [name, pi] : versions_[w]) {
      Topic* t = reg.find(name);
      ASSERT_NE(t, nullptr) << "topic " << name << " missing";
      ASSERT_EQ(t->partitions.size(), pi.first);
      for (uint32_t p = 0; p < pi.first; ++p) {
        claimed.insert(TopicRegistry::partition_dir_name(name, p));
        const Incarnation inc{name, pi.second, p};
        std::optional<uint64_t> last;
        for (size_t i = 0; i < acked; ++i)
          if (acks_[i].version < 0 && acks_[i].inc == inc) last = acks_[i].last;
        expect_log(*t->partitions[p], seed_of(inc), last);
      }
    }
    for (const auto& e : std::filesystem::directory_iterator(root)) {
      // A directory no topic claims may stay only when it holds no segment (an
      // empty one, made just before the crash, is reused by the next create).
      if (e.is_directory() && !claimed.count(e.path().filename().string())) {
        EXPECT_FALSE(admin::is_partition_dir(e.path().string())) << "leftover partition directory " << e.path();
      }
    }
    expect_verify_clean(root);
  }

 private:
  struct Incarnation {
    std::string topic;
    int generation = 0;
    uint32_t partition = 0;
    bool operator==(const Incarnation&) const = default;
  };
  struct Ack {
    int version = -1;  // >= 0: a metadata change; else a record
    Incarnation inc;
    uint64_t last = 0;
  };
  static uint64_t seed_of(const Incarnation& i) {
    return 1503 + std::hash<std::string>()(i.topic) % 1000 * 100 + static_cast<uint64_t>(i.generation) * 10 +
           i.partition;
  }
  // Each version: topic -> (partitions, generation).
  using Version = std::map<std::string, std::pair<uint32_t, int>>;
  void next_version(const std::map<std::string, uint32_t>& add, const std::set<std::string>& remove) {
    Version v = versions_.back();
    for (const auto& r : remove) v.erase(r);
    for (const auto& [name, n] : add) v[name] = {n, generation_++};
    versions_.push_back(v);
    acks_.push_back(Ack{static_cast<int>(versions_.size()) - 1, {}, 0});
  }
  std::map<std::string, uint32_t> partitions_of(int i) const {
    std::map<std::string, uint32_t> out;
    for (const auto& [name, pi] : versions_[i]) out[name] = pi.first;
    return out;
  }

  std::vector<Version> versions_{Version{}};
  std::vector<Ack> acks_;
  int generation_ = 0;
  uint64_t compact_every_;
  bool from_old_snapshot_;
};

// Offset commits to the internal offsets topic, as the broker makes them:
// append to `__consumer_offsets`, flush, acknowledge.
class OffsetCommitWorkload : public PowerLossWorkload {
 public:
  explicit OffsetCommitWorkload(int commits) : commits_(commits) {}
  std::string name() const override { return "offset commit"; }
  void setup(const std::string& root) override {
    TopicRegistry reg(root, 16);
    ASSERT_TRUE(reg.open(nullptr).is_ok());
    TopicConfig c = power_loss_topic(1);
    c.segment_bytes = 1024;  // a few commits per segment: rolls too
    c.cleanup = CleanupPolicy::kCompact;
    ASSERT_TRUE(reg.create(kOffsetsTopic, c).is_ok());
  }
  void run(const std::string& root, const std::function<void()>& ack) override {
    TopicRegistry reg(root, 16);
    ASSERT_TRUE(reg.open(nullptr).is_ok());
    auto log = reg.partition(kOffsetsTopic, 0);
    ASSERT_TRUE(log.is_ok());
    OffsetStore store(*log);
    ASSERT_TRUE(store.load().is_ok());
    for (int i = 0; i < commits_; ++i) {
      const GroupKey key{"g" + std::to_string(i % 2), "orders", static_cast<uint32_t>(i % 3)};
      const uint64_t offset = 100 + static_cast<uint64_t>(i) * 7;
      ASSERT_TRUE(store.commit(key, offset, kBaseTimestampUs + i).is_ok());
      ASSERT_TRUE((*log)->flush().is_ok());
      commits_made_.push_back({key, offset});
      ack();
    }
  }
  void check(const std::string& root, size_t acked) override {
    TopicRegistry reg(root, 16);
    ASSERT_TRUE(reg.open(nullptr).is_ok());
    auto log = reg.partition(kOffsetsTopic, 0);
    ASSERT_TRUE(log.is_ok());
    OffsetStore store(*log);
    ASSERT_TRUE(store.load().is_ok());
    std::map<GroupKey, std::optional<uint64_t>> last_acked;
    std::map<GroupKey, std::set<uint64_t>> later;
    for (size_t i = 0; i < commits_made_.size(); ++i) {
      const auto& [key, offset] = commits_made_[i];
      if (i < acked) {
        last_acked[key] = offset;
        later[key].clear();
      } else {
        later[key].insert(offset);
      }
    }
    for (const auto& [key, offsets] : later) {
      const auto got = store.committed(key);
      const auto it = last_acked.find(key);
      const bool any_acked = it != last_acked.end() && it->second.has_value();
      const uint64_t want = any_acked ? *it->second : 0;
      const bool ok = (got.has_value() == any_acked && (!got || *got == want)) || (got && offsets.count(*got));
      EXPECT_TRUE(ok) << "group " << key.group << " partition " << key.partition << ": committed "
                      << (got ? std::to_string(*got) : "none") << ", last acknowledged "
                      << (any_acked ? std::to_string(want) : "none");
    }
    expect_verify_clean(root);
  }

 private:
  int commits_;
  std::vector<std::pair<GroupKey, uint64_t>> commits_made_;
};

}  // namespace rustlog::test
