// The __consumer_offsets record format (docs/STORAGE.md, "Consumer offsets"):
// the key and value bytes of the table, their round trip and rejections, the
// size of one commit on disk, and the replay that rebuilds the map.
#include "offsets/offset_store.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <vector>

#include "storage/fault_injection.h"
#include "storage/partition_log.h"
#include "support/log_helpers.h"
#include "support/record_gen.h"
#include "support/temp_dir.h"

namespace rustlog {
namespace {

using test::TempDir;

constexpr int64_t kT0 = 1'700'000'000'000'000;

std::string hex(const std::string& b) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : b) {
    if (!out.empty()) out += ' ';
    out += d[c >> 4];
    out += d[c & 15];
  }
  return out;
}

TEST(OffsetStoreTest, KeyAndValueBytesAreTheTableInStorageMd) {
  // The worked example of docs/STORAGE.md: group "g", topic "t", partition 3,
  // offset 5 committed at 1700000000000000 µs.
  EXPECT_EQ(hex(encode_group_key({"g", "t", 3})), "00 00 01 67 00 01 74 00 00 00 03");
  EXPECT_EQ(hex(encode_group_key({"g", "t", 3}, KeyCopy::kMirror)), "01 00 01 67 00 01 74 00 00 00 03");
  EXPECT_EQ(hex(encode_offset_value(5, kT0)), "00 00 00 00 00 00 00 00 05 00 06 0a 24 18 1e 40 00");
}

TEST(OffsetStoreTest, KeysAndValuesRoundTripAndMalformedOnesAreRejected) {
  const GroupKey k{"billing", "orders", 7};
  auto back = decode_group_key(encode_group_key(k));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, k);
  EXPECT_EQ(decode_group_key(encode_group_key(k, KeyCopy::kMirror)), k) << "the mirror names the same key";
  const GroupKey empty_topic{"g", "", 0};
  EXPECT_EQ(decode_group_key(encode_group_key(empty_topic)), empty_topic);
  EXPECT_EQ(decode_offset_value(encode_offset_value(123456789, kT0)), 123456789u);

  const std::string key = encode_group_key(k);
  for (size_t n = 0; n < key.size(); ++n) EXPECT_FALSE(decode_group_key(key.substr(0, n))) << n;
  EXPECT_FALSE(decode_group_key(key + "x"));
  std::string v2 = key;
  v2[0] = 2;  // neither copy
  EXPECT_FALSE(decode_group_key(v2));
  const std::string value = encode_offset_value(9, kT0);
  for (size_t n = 0; n < value.size(); ++n) EXPECT_FALSE(decode_offset_value(value.substr(0, n))) << n;
  EXPECT_FALSE(decode_offset_value(value + "x"));
  std::string w1 = value;
  w1[0] = 1;
  EXPECT_FALSE(decode_offset_value(w1));
}

// Two copies, in two batches of one write (docs/STORAGE.md, "Consumer offsets").
TEST(OffsetStoreTest, EachCommitIsTwoBatchesOf76BytesPlusTheNames) {
  TempDir tmp;
  auto log = PartitionLog::open(tmp.sub("__consumer_offsets-0"), LogConfig{}, 0);
  ASSERT_TRUE(log.is_ok());
  OffsetStore store(log->get());
  uint64_t size = (*log)->size_bytes();
  for (const GroupKey& k : {GroupKey{"g", "t", 0}, GroupKey{"billing", "orders", 2},
                            GroupKey{std::string(20, 'g'), std::string(30, 't'), 1}}) {
    const uint64_t hw = (*log)->high_watermark();
    ASSERT_TRUE(store.commit(k, 42, kT0).is_ok());
    EXPECT_EQ((*log)->high_watermark(), hw + 2) << "one record per copy";
    EXPECT_EQ((*log)->size_bytes() - size, 2 * (76 + k.group.size() + k.topic.size())) << k.group;
    size = (*log)->size_bytes();
  }
}

TEST(OffsetStoreTest, ReplayRebuildsTheLatestOffsetPerKeyAndHonoursTombstones) {
  TempDir tmp;
  const std::string dir = tmp.sub("__consumer_offsets-0");
  {
    auto log = PartitionLog::open(dir, LogConfig{}, 0);
    ASSERT_TRUE(log.is_ok());
    OffsetStore store(log->get());
    ASSERT_TRUE(store.commit({"a", "t", 0}, 1, kT0).is_ok());
    ASSERT_TRUE(store.commit({"a", "t", 0}, 5, kT0 + 1).is_ok());
    ASSERT_TRUE(store.commit({"a", "u", 1}, 3, kT0 + 2).is_ok());
    ASSERT_TRUE(store.commit({"b", "t", 0}, 9, kT0 + 3).is_ok());
    auto n = store.delete_group("b", kT0 + 4);  // covers b's commit, not yet durable
    ASSERT_TRUE(n.is_ok());
    EXPECT_EQ(*n, 1u);
    ASSERT_TRUE((*log)->close().is_ok());
  }
  auto log = PartitionLog::open(dir, LogConfig{}, 0);
  ASSERT_TRUE(log.is_ok());
  OffsetStore store(log->get());
  ASSERT_TRUE(store.load().is_ok());
  EXPECT_EQ(store.committed({"a", "t", 0}), 5u);
  EXPECT_EQ(store.committed({"a", "u", 1}), 3u);
  EXPECT_FALSE(store.committed({"b", "t", 0}).has_value());
  EXPECT_EQ(store.groups(), std::vector<std::string>{"a"});
}

// --offsets-retention-ms, with the clock injected: a group expires as a
// whole, counted from its newest commit, oldest group first, at most
// max_keys tombstones per call; replay restores the commit times.
TEST(OffsetStoreTest, GroupsExpireAfterTheirLastCommitInBoundedSteps) {
  constexpr int64_t kSec = 1'000'000;
  constexpr int64_t kRetention = 60 * kSec;
  TempDir tmp;
  const std::string dir = tmp.sub("__consumer_offsets-0");
  {
    auto log = PartitionLog::open(dir, LogConfig{}, 0);
    ASSERT_TRUE(log.is_ok());
    OffsetStore store(log->get());
    auto settle = [&] {
      ASSERT_TRUE((*log)->flush().is_ok());
      store.apply_durable();
    };
    ASSERT_TRUE(store.commit({"old", "t", 0}, 1, kT0).is_ok());
    ASSERT_TRUE(store.commit({"old", "t", 1}, 2, kT0).is_ok());
    ASSERT_TRUE(store.commit({"old", "u", 0}, 3, kT0 + 5 * kSec).is_ok());  // the group's last commit
    ASSERT_TRUE(store.commit({"young", "t", 0}, 7, kT0 + 10 * kSec).is_ok());
    settle();
    EXPECT_EQ(store.last_commit_us("old"), kT0 + 5 * kSec);
    EXPECT_EQ(store.last_commit_us("none"), std::nullopt);

    // One µs short of the horizon: nothing, and no record written.
    const uint64_t hw = (*log)->high_watermark();
    auto r = store.expire(kT0 + 5 * kSec + kRetention - 1, kRetention, 100);
    ASSERT_TRUE(r.is_ok());
    EXPECT_EQ(r->keys, 0u);
    EXPECT_EQ((*log)->high_watermark(), hw);

    // At the horizon "old" goes, two keys per call; "young" stays.
    const int64_t now = kT0 + 5 * kSec + kRetention;
    r = store.expire(now, kRetention, 2);
    ASSERT_TRUE(r.is_ok());
    settle();
    EXPECT_EQ(r->keys, 2u);
    EXPECT_EQ(r->groups, std::vector<std::string>{"old"});
    EXPECT_EQ((*log)->high_watermark(), hw + 4) << "one tombstone per key, in one batch per copy";
    EXPECT_EQ(store.groups(), (std::vector<std::string>{"old", "young"})) << "a key of old is left";
    r = store.expire(now, kRetention, 2);
    ASSERT_TRUE(r.is_ok());
    settle();
    EXPECT_EQ(r->keys, 1u);
    EXPECT_EQ(store.groups(), std::vector<std::string>{"young"});
    EXPECT_FALSE(store.committed({"old", "u", 0}).has_value());
    EXPECT_EQ(store.committed({"young", "t", 0}), 7u);
    r = store.expire(now, kRetention, 2);
    ASSERT_TRUE(r.is_ok());
    EXPECT_EQ(r->keys, 0u);

    // A commit renews a group: "young" commits again and outlives its first horizon.
    ASSERT_TRUE(store.commit({"young", "t", 1}, 8, kT0 + 50 * kSec).is_ok());
    settle();
    r = store.expire(kT0 + 10 * kSec + kRetention, kRetention, 100);
    ASSERT_TRUE(r.is_ok());
    EXPECT_EQ(r->keys, 0u);
    ASSERT_TRUE((*log)->close().is_ok());
  }
  // Replay: the tombstones hold, and the commit times come back from the values.
  auto log = PartitionLog::open(dir, LogConfig{}, 0);
  ASSERT_TRUE(log.is_ok());
  OffsetStore store(log->get());
  ASSERT_TRUE(store.load().is_ok());
  EXPECT_EQ(store.groups(), std::vector<std::string>{"young"});
  EXPECT_EQ(store.last_commit_us("young"), kT0 + 50 * kSec);
  auto r = store.expire(kT0 + 50 * kSec + kRetention, kRetention, 100);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->keys, 2u);
  EXPECT_FALSE(store.groups().empty()) << "tombstones take effect once durable";
  ASSERT_TRUE((*log)->flush().is_ok());
  store.apply_durable();
  EXPECT_TRUE(store.groups().empty());
  EXPECT_EQ(store.size(), 0u);
}

// A write answered with an error has not happened: a commit (or a
// tombstone) takes effect only once its flush succeeded, and one whose
// fsync failed (through the storage fault seam) never does.
TEST(OffsetStoreTest, ACommitTakesEffectOnlyOnceItsFlushSucceeded) {
  TempDir tmp;
  auto log = PartitionLog::open(tmp.sub("__consumer_offsets-0"), LogConfig{}, 0);
  ASSERT_TRUE(log.is_ok());
  OffsetStore store(log->get());
  const GroupKey k{"g", "t", 0};
  ASSERT_TRUE(store.commit(k, 3, kT0).is_ok());
  store.apply_durable();
  EXPECT_EQ(store.committed(k), std::nullopt) << "visible before it is durable";
  ASSERT_TRUE((*log)->flush().is_ok());
  store.apply_durable();
  EXPECT_EQ(store.committed(k), 3u);
  ASSERT_TRUE(store.commit(k, 5, kT0 + 1).is_ok());
  ASSERT_TRUE(store.delete_topic("t", kT0 + 2).is_ok());
  fault::arm(fault::Op::kSync, EIO);
  EXPECT_FALSE((*log)->flush().is_ok());
  fault::disarm();
  store.apply_durable();
  EXPECT_EQ(store.committed(k), 3u) << "a commit whose fsync failed took effect";
  EXPECT_EQ(store.groups(), std::vector<std::string>{"g"}) << "tombstones whose fsync failed took effect";
}

TEST(OffsetStoreTest, GroupIdsMustBeOneTo255Bytes) {
  TempDir tmp;
  auto log = PartitionLog::open(tmp.sub("__consumer_offsets-0"), LogConfig{}, 0);
  ASSERT_TRUE(log.is_ok());
  OffsetStore store(log->get());
  EXPECT_EQ(store.commit({"", "t", 0}, 1, kT0).code(), ErrorCode::kInvalidRequest);
  EXPECT_EQ(store.commit({std::string(256, 'g'), "t", 0}, 1, kT0).code(), ErrorCode::kInvalidRequest);
  EXPECT_TRUE(store.commit({std::string(255, 'g'), "t", 0}, 1, kT0).is_ok());
}

// Bit rot in one commit batch below the recovery point costs no commit: the
// log keeps its high watermark and the other copy of the damaged commit
// loads (offset_redundancy_test flips every byte of every batch).
constexpr int kCommits = 20;

GroupKey key(int i) { return GroupKey{"g", "orders", static_cast<uint32_t>(i)}; }

// kCommits commits, two batches each (partition i at offset 100 + i), flushed
// and closed: the recovery point covers them all. Returns each batch's position.
std::vector<uint64_t> write_commits(const std::string& dir, const LogConfig& cfg) {
  auto log = test::open_log(dir, cfg, 0);
  EXPECT_NE(log, nullptr);
  if (!log) return {};
  OffsetStore store(log.get());
  EXPECT_TRUE(store.load().is_ok());
  std::vector<uint64_t> pos;
  for (int i = 0; i < kCommits; ++i) {
    const uint64_t at = log->size_bytes();
    EXPECT_TRUE(store.commit(key(i), 100 + i, 1000 + i).is_ok());
    pos.push_back(at);
    pos.push_back(at + (log->size_bytes() - at) / 2);  // the mirror: a batch of the same size
  }
  EXPECT_TRUE(log->close().is_ok());
  EXPECT_EQ(log->recovery_point(), static_cast<uint64_t>(2 * kCommits));
  return pos;
}

// The broker indexes every batch of __consumer_offsets (index interval 0),
// so a damaged commit's neighbours are proven batch starts whatever field of
// it is damaged, its length included.
TEST(OffsetStoreTest, AFlipBelowTheRecoveryPointLosesNoCommit) {
  TempDir tmp("rustlog-offsets", test::fast_temp_base());
  const std::string golden = tmp.sub("golden");
  const LogConfig cfg = test::small_config(1 << 20, 0);
  const std::vector<uint64_t> pos = write_commits(golden, cfg);
  constexpr uint64_t kBatches = 2 * kCommits;
  ASSERT_EQ(pos.size(), kBatches);
  const std::string log_name = "/" + Segment::file_name(0, ".log");
  const uint64_t end = test::file_size(golden + log_name);
  test::RecordGen g(77);
  // The primary of commit 0, both copies of commit 5, the last mirror.
  for (uint64_t victim : {uint64_t{0}, uint64_t{10}, uint64_t{11}, kBatches - 1}) {
    const uint64_t from = pos[victim];
    const uint64_t to = victim + 1 < kBatches ? pos[victim + 1] : end;
    for (uint64_t at = from; at < to; ++at) {
      if (victim / 2 != 5 && !g.chance(25)) continue;  // every byte of commit 5, a sample of the others
      const int bit = static_cast<int>(g.uniform(0, 7));
      SCOPED_TRACE("batch " + std::to_string(victim) + ", byte " + std::to_string(at - from) + " bit " +
                   std::to_string(bit));
      const std::string work = tmp.sub("work");
      test::restore_dir(golden, work);
      test::flip_bit(work + log_name, at, bit);
      auto log = test::open_log(work, cfg, kBatches);
      ASSERT_NE(log, nullptr);
      EXPECT_EQ(log->high_watermark(), kBatches);
      EXPECT_EQ(log->recovery_report().bytes_truncated, 0u);
      OffsetStore store(log.get());
      ASSERT_TRUE(store.load().is_ok());
      for (int i = 0; i < kCommits; ++i) EXPECT_EQ(store.committed(key(i)), 100u + i) << "commit " << i;
      // The next commit takes new offsets of the log.
      const uint64_t before = log->high_watermark();
      ASSERT_TRUE(store.commit(key(static_cast<int>(victim / 2)), 500, 2000).is_ok());
      EXPECT_EQ(log->high_watermark(), before + 2);
      if (HasFatalFailure()) return;
    }
  }
}

}  // namespace
}  // namespace rustlog
