// The two copies of every __consumer_offsets record (offsets/offset_store.h,
// docs/STORAGE.md "Consumer offsets"): one damaged batch anywhere below the
// recovery point — fresh, compacted, or compacted past the tombstone horizon
// — never lowers or loses a committed offset and never brings back a deleted
// one; data written with one copy per record still replays.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "offsets/offset_store.h"
#include "storage/fault_injection.h"
#include "storage/log_cleaner.h"
#include "storage/partition_log.h"
#include "storage/record_batch.h"
#include "support/log_helpers.h"
#include "support/record_gen.h"
#include "support/temp_dir.h"

namespace rustlog {
namespace {

using test::TempDir;

constexpr int64_t kT0 = 1'700'000'000'000'000;
constexpr int64_t kSec = 1'000'000;
constexpr int64_t kRetention = 60 * kSec;

// Every key the workload touches, and what a correct replay holds for it
// (nullopt: deleted, by a group delete, an expiry or a topic delete).
struct Oracle {
  std::map<GroupKey, std::optional<uint64_t>> want;
};

LogConfig offsets_config(uint64_t segment_bytes) {
  LogConfig c = test::small_config(segment_bytes, 0);  // every batch indexed, as the broker does
  c.compaction.enabled = true;
  c.compaction.min_cleanable_dirty_ratio = 0;
  c.segment_ms = 3600ll * 1000;
  return c;
}

// Commits, re-commits, a group delete, an expiry and a topic delete, each
// flushed (acknowledged) before the next; returns what they leave.
Oracle write_workload(PartitionLog* log) {
  OffsetStore store(log);
  EXPECT_TRUE(store.load().is_ok());
  int64_t now = kT0;
  auto settle = [&] {
    EXPECT_TRUE(log->flush().is_ok());
    store.apply_durable();
    now += kSec;
  };
  auto commit = [&](const GroupKey& k, uint64_t off) {
    EXPECT_TRUE(store.commit(k, off, now).is_ok());
    settle();
  };
  const GroupKey g0{"g", "orders", 0}, g1{"g", "orders", 1}, h0{"h", "orders", 0};
  const GroupKey old0{"old", "t", 0}, gone{"g", "gone", 0};
  commit(old0, 3);                      // the group that will expire commits first
  now += kRetention;
  commit(g0, 10);
  commit(g0, 20);
  commit(g1, 5);
  commit(h0, 7);
  commit(h0, 8);
  EXPECT_TRUE(store.delete_group("h", now).is_ok());
  settle();
  auto e = store.expire(now, kRetention, 100);
  EXPECT_TRUE(e.is_ok() && e->keys == 1u);
  settle();
  for (uint64_t v = 1; v <= 5; ++v) {  // superseded commits for the cleaner to remove
    commit(g1, v);
    commit(g0, 10 + v);
  }
  commit(gone, 9);
  EXPECT_TRUE(store.delete_topic("gone", now).is_ok());
  settle();
  commit(g1, 6);
  commit(g0, 21);
  Oracle o;
  for (const GroupKey& k : {g0, g1, h0, old0, gone}) o.want[k] = store.committed(k);
  EXPECT_EQ(o.want[g0], 21u);
  EXPECT_EQ(o.want[g1], 6u);
  EXPECT_EQ(o.want[h0], std::nullopt);
  EXPECT_EQ(o.want[old0], std::nullopt);
  EXPECT_EQ(o.want[gone], std::nullopt);
  return o;
}

// A log in `dir` holding the workload (open: the caller closes it).
std::unique_ptr<PartitionLog> written_log(const std::string& dir, const LogConfig& cfg, Oracle* o) {
  auto log = test::open_log(dir, cfg, 0);
  if (log) *o = write_workload(log.get());
  return log;
}

// Position and size of every batch of every segment file in `dir`.
struct BatchAt {
  std::string file;
  uint64_t pos = 0;
  uint64_t size = 0;
};

std::vector<BatchAt> batches_in(const std::string& dir) {
  std::vector<BatchAt> out;
  for (const auto& name : test::list_files(dir)) {
    if (name.size() < 4 || name.substr(name.size() - 4) != ".log") continue;
    const std::string bytes = test::read_bytes(dir + "/" + name);
    uint64_t pos = 0;
    while (pos < bytes.size()) {
      BatchHeader h;
      if (parse_batch_header(reinterpret_cast<const uint8_t*>(bytes.data()) + pos, bytes.size() - pos, &h) !=
          BatchError::kOk) {
        ADD_FAILURE() << "golden " << name << " is not whole batches at byte " << pos;
        break;
      }
      out.push_back({name, pos, h.total_size()});
      pos += h.total_size();
    }
  }
  return out;
}

// Flips one seeded bit in every byte of every batch of the golden log in
// turn, reopens it (everything below the recovery point) and checks the
// replay against the oracle.
void flip_every_byte(const std::string& golden, const std::string& work, const LogConfig& cfg, uint64_t hw,
                     const Oracle& o, uint64_t seed) {
  const std::vector<BatchAt> batches = batches_in(golden);
  ASSERT_GE(batches.size(), 2u);
  test::RecordGen g(seed);
  for (size_t b = 0; b < batches.size(); ++b) {
    for (uint64_t i = 0; i < batches[b].size; ++i) {
      const int bit = static_cast<int>(g.uniform(0, 7));
      SCOPED_TRACE(batches[b].file + ": batch " + std::to_string(b) + ", byte " + std::to_string(i) + " bit " +
                   std::to_string(bit));
      test::restore_dir(golden, work);
      test::flip_bit(work + "/" + batches[b].file, batches[b].pos + i, bit);
      auto log = test::open_log(work, cfg, hw);
      ASSERT_NE(log, nullptr);
      ASSERT_EQ(log->high_watermark(), hw);
      OffsetStore store(log.get());
      ASSERT_TRUE(store.load().is_ok());
      size_t live = 0;
      for (const auto& [k, v] : o.want) {
        ASSERT_EQ(store.committed(k), v) << k.group << "/" << k.topic << "/" << k.partition;
        if (v) ++live;
      }
      ASSERT_EQ(store.size(), live);
      ASSERT_EQ(store.groups(), std::vector<std::string>{"g"});
    }
  }
}

// Every batch holds records of one copy only, and every key the log still
// holds is there in both copies: compaction recopies batch by batch.
void expect_copies_in_separate_batches(PartitionLog& log) {
  std::map<std::string, int> copies;  // primary key bytes -> copies seen (bit 0 primary, bit 1 mirror)
  uint64_t off = log.log_start_offset();
  while (off < log.high_watermark()) {
    auto r = log.read(off, 1);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    if (r->data.empty()) break;
    std::vector<Record> recs;
    ASSERT_TRUE(decode_batches(r->data, off, &recs).is_ok());
    std::optional<char> copy;
    for (const Record& rec : recs) {
      ASSERT_TRUE(rec.key.has_value());
      if (copy) {
        EXPECT_EQ((*rec.key)[0], *copy) << "both copies in the batch at " << off;
      }
      copy = (*rec.key)[0];
      std::string primary = *rec.key;
      primary[0] = 0;
      copies[primary] |= 1 << (*rec.key)[0];
    }
    off = r->next_offset;
  }
  for (const auto& [k, seen] : copies) EXPECT_EQ(seen, 3) << "a key kept in one copy only";
}

TEST(OffsetRedundancyTest, AFlipAnywhereBelowTheRecoveryPointKeepsEveryCommitAndEveryDelete) {
  TempDir tmp("rustlog-offsets", test::fast_temp_base());
  const std::string golden = tmp.sub("golden");
  const LogConfig cfg = offsets_config(1 << 20);  // one (active) segment
  Oracle o;
  auto log = written_log(golden, cfg, &o);
  ASSERT_NE(log, nullptr);
  const uint64_t hw = log->high_watermark();
  ASSERT_TRUE(log->close().is_ok());
  ASSERT_EQ(log->segment_count(), 1u);
  log.reset();
  flip_every_byte(golden, tmp.sub("work"), cfg, hw, o, 11);
}

// Compaction first (tombstones kept, then a second pass past their
// horizon), flips after: the cleaned log is as redundant as the written one.
TEST(OffsetRedundancyTest, AfterCompactionAFlipAnywhereStillKeepsEveryCommitAndEveryDelete) {
  TempDir tmp("rustlog-offsets", test::fast_temp_base());
  const LogConfig cfg = offsets_config(1024);  // about ten batches per segment
  for (bool past_horizon : {false, true}) {
    SCOPED_TRACE(past_horizon ? "tombstones removed" : "tombstones kept");
    const std::string golden = tmp.sub(past_horizon ? "golden-late" : "golden");
    Oracle o;
    uint64_t hw = 0;
    {
      auto log = written_log(golden, cfg, &o);
      ASSERT_NE(log, nullptr);
      hw = log->high_watermark();
      const uint64_t before = log->size_bytes();
      ASSERT_GE(log->segment_count(), 3u);
      LogCleaner cleaner;
      ASSERT_TRUE(cleaner.add_log("__consumer_offsets-0", log.get()).is_ok());
      const int64_t later = kT0 + 2 * kRetention;
      ASSERT_GE(cleaner.run_until_idle(later), 1u);
      if (past_horizon) {
        // The same offsets committed again make a dirty range for a pass
        // after the tombstones' horizon.
        OffsetStore again(log.get());
        ASSERT_TRUE(again.load().is_ok());
        for (int i = 0; i < 12; ++i) {
          for (const auto& [k, v] : o.want) {
            if (!v) continue;
            ASSERT_TRUE(again.commit(k, *v, later).is_ok());
          }
          ASSERT_TRUE(log->flush().is_ok());
        }
        hw = log->high_watermark();
        const int64_t after_horizon = later + cfg.compaction.delete_retention_ms * 1000 + kSec;
        cleaner.run_until_idle(after_horizon);
        EXPECT_GT(cleaner.counters().tombstones_removed, 0u);
      }
      EXPECT_LT(log->size_bytes(), before);
      EXPECT_GT(cleaner.counters().records_removed, 0u);
      expect_copies_in_separate_batches(*log);
      if (HasFatalFailure()) return;
      ASSERT_TRUE(log->close().is_ok());
    }
    flip_every_byte(golden, tmp.sub("work"), cfg, hw, o, past_horizon ? 13 : 12);
    if (HasFatalFailure()) return;
  }
}

// A data directory written before mirrors existed (one batch, primary keys
// only, per record) replays as it always did, and new commits on top of it
// are written in both copies.
TEST(OffsetRedundancyTest, ALogWithOneCopyPerRecordStillReplays) {
  TempDir tmp;
  const std::string dir = tmp.sub("__consumer_offsets-0");
  const GroupKey a{"a", "t", 0}, b{"b", "t", 1};
  {
    auto log = test::open_log(dir, LogConfig{}, 0);
    ASSERT_NE(log, nullptr);
    auto append = [&](const GroupKey& k, std::optional<uint64_t> v) {
      BatchBuilder bb(0);
      std::optional<std::string> value;
      if (v) value = encode_offset_value(*v, kT0);
      bb.add(kT0, encode_group_key(k), value, {});
      std::string bytes = bb.finish();
      ASSERT_TRUE(log->append(bytes, kT0).is_ok());
    };
    append(a, 4);
    append(a, 9);
    append(b, 2);
    append(b, std::nullopt);
    ASSERT_TRUE(log->close().is_ok());
  }
  auto log = test::open_log(dir, LogConfig{}, 4);
  ASSERT_NE(log, nullptr);
  OffsetStore store(log.get());
  ASSERT_TRUE(store.load().is_ok());
  EXPECT_EQ(store.committed(a), 9u);
  EXPECT_EQ(store.committed(b), std::nullopt);
  ASSERT_TRUE(store.commit(a, 10, kT0 + 1).is_ok());
  EXPECT_EQ(log->high_watermark(), 6u) << "a new commit is written in both copies";
  ASSERT_TRUE(log->flush().is_ok());
  store.apply_durable();
  EXPECT_EQ(store.committed(a), 10u);
}

// Both copies or neither: a write that fails after the primary batch and
// part of the mirror reached the file (ENOSPC, through the storage fault
// seam) leaves the log as it was, and the commit has not happened.
TEST(OffsetRedundancyTest, AWriteFailingInsideTheMirrorLeavesNeitherCopy) {
  TempDir tmp;
  const std::string dir = tmp.sub("__consumer_offsets-0");
  const GroupKey k{"g", "t", 0};
  auto log = test::open_log(dir, offsets_config(1 << 20), 0);
  ASSERT_NE(log, nullptr);
  OffsetStore store(log.get());
  ASSERT_TRUE(store.commit(k, 1, kT0).is_ok());
  ASSERT_TRUE(log->flush().is_ok());
  store.apply_durable();
  const uint64_t hw = log->high_watermark(), size = log->size_bytes();
  const uint64_t one_copy = size / 2;
  fault::arm(fault::Op::kWrite, ENOSPC, 0, 1, one_copy + 10, dir);
  Status st = store.commit(k, 2, kT0 + 1);
  fault::disarm();
  EXPECT_EQ(st.code(), ErrorCode::kInsufficientSpace) << st.to_string();
  EXPECT_EQ(log->high_watermark(), hw);
  EXPECT_EQ(log->size_bytes(), size);
  EXPECT_EQ(test::file_size(dir + "/" + Segment::file_name(0, ".log")), size) << "a partial copy left in the file";
  ASSERT_TRUE(log->flush().is_ok());
  store.apply_durable();
  EXPECT_EQ(store.committed(k), 1u);
  ASSERT_TRUE(store.commit(k, 3, kT0 + 2).is_ok()) << "ENOSPC does not stop later commits";
  ASSERT_TRUE(log->close().is_ok());
  log = test::open_log(dir, offsets_config(1 << 20), hw + 2);
  ASSERT_NE(log, nullptr);
  OffsetStore replayed(log.get());
  ASSERT_TRUE(replayed.load().is_ok());
  EXPECT_EQ(replayed.committed(k), 3u);
  EXPECT_EQ(log->high_watermark(), hw + 2);
}

}  // namespace
}  // namespace rustlog
