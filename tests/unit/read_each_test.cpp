// PartitionLog::read_each hands out, without copying, exactly the batches
// read() copies: the same bytes, next offset and watermarks for random
// offsets and limits over a log of many segments with compaction gaps and
// an active tail (sealed segments through the mapping, the active one
// through pread). And the broker's output queue sends answers in order from
// their own buffers.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "broker/output_queue.h"
#include "storage/log_cleaner.h"
#include "storage/partition_log.h"
#include "support/compaction_helpers.h"
#include "support/log_helpers.h"
#include "support/temp_dir.h"

namespace rustlog {
namespace {

using test::TempDir;

void expect_same_reads(PartitionLog& log, uint64_t seed, int reads) {
  std::mt19937_64 rng(seed);
  const uint64_t start = log.log_start_offset(), end = log.high_watermark();
  for (int i = 0; i < reads; ++i) {
    const uint64_t off = start + rng() % (end - start + 1);
    ReadLimits lim;
    lim.max_bytes = 1 + rng() % 6000;
    if (rng() % 3 == 0) lim.first_batch_max = rng() % 400;
    if (rng() % 4 == 0) lim.max_offset = off + rng() % 50;
    SCOPED_TRACE("offset " + std::to_string(off) + " max_bytes " + std::to_string(lim.max_bytes));
    auto copied = log.read(off, lim);
    std::string handed;
    size_t calls = 0;
    auto each = log.read_each(off, lim, [&](std::string_view b, const BytesPin&) {
      handed.append(b);
      ++calls;
    });
    ASSERT_EQ(copied.is_ok(), each.is_ok());
    if (!copied) {
      EXPECT_EQ(copied.status().code(), each.status().code());
      continue;
    }
    ASSERT_TRUE(test::same_bytes(handed, copied->data));
    EXPECT_EQ(each->bytes, handed.size());
    EXPECT_EQ(calls, test::split_batches(handed).size());  // one whole batch per call
    EXPECT_EQ(each->next_offset, copied->next_offset);
    EXPECT_EQ(each->high_watermark, copied->high_watermark);
    EXPECT_EQ(each->log_start_offset, copied->log_start_offset);
  }
}

// Sends part of what q.fill() handed out, as a full socket takes a partial
// write: appends the bytes taken to *sent and consumes them.
void partial_write(OutputQueue& q, const struct iovec* iov, int n, std::mt19937& rng, std::string* sent) {
  size_t avail = 0;
  for (int i = 0; i < n; ++i) avail += iov[i].iov_len;
  size_t take = 1 + rng() % avail;
  const size_t took = take;
  for (int i = 0; i < n && take > 0; ++i) {
    const size_t k = std::min(take, iov[i].iov_len);
    sent->append(static_cast<const char*>(iov[i].iov_base), k);
    take -= k;
  }
  q.consume(took);
}

TEST(ReadEachTest, HandsOutExactlyTheBytesReadCopiesAcrossSegmentsAndCompactionGaps) {
  TempDir tmp;
  auto log = test::open_log(tmp.path(), test::compact_config(2048, 256), 0);
  ASSERT_NE(log, nullptr);
  test::fill_keys(*log, 30, 12);
  LogCleaner cleaner;
  ASSERT_TRUE(cleaner.add_log("t-0", log.get()).is_ok());
  ASSERT_GE(cleaner.run_until_idle(test::kBaseTimestampUs + 3600ll * 1000 * 1000), 1u);
  cleaner.remove_log("t-0");
  test::fill_keys(*log, 7, 3);  // an uncleaned tail, its end in the active segment
  ASSERT_GT(log->segment_count(), 3u);
  expect_same_reads(*log, 81, 400);
  // Again with every segment verified and mapped: the second reads take
  // the known-good path.
  expect_same_reads(*log, 82, 400);
}

TEST(OutputQueueTest, SendsFramesInOrderFromTheirOwnBuffersAcrossPartialWrites) {
  OutputQueue q;
  std::string want;
  std::mt19937 rng(83);
  for (int i = 0; i < 300; ++i) {
    std::string f(rng() % 3000, static_cast<char>('a' + i % 26));
    want += f;
    q.push(std::move(f));  // empty frames are dropped
  }
  EXPECT_EQ(q.pending(), want.size());
  EXPECT_EQ(q.copy_pending(), want);
  std::string sent;
  while (q.pending() > 0) {
    struct iovec iov[7];
    const int n = q.fill(iov, 7);
    ASSERT_GT(n, 0);
    partial_write(q, iov, n, rng, &sent);
    ASSERT_EQ(q.pending(), want.size() - sent.size());
  }
  EXPECT_EQ(sent, want);
  EXPECT_EQ(q.fill(nullptr, 0), 0);
}

// Frames with values spliced in from a pinned buffer (as a fetch answer's
// large values are, from a segment mapping): what leaves, across partial
// writes, at most max_bytes per fill, is each frame flattened, in order;
// the pins are dropped once their frame is sent.
TEST(OutputQueueTest, SplicedValuesLeaveInPlaceAndTheirPinsGoWithTheirFrame) {
  auto store = std::make_shared<std::string>();
  for (int i = 0; i < 200000; ++i) store->push_back(static_cast<char>('A' + i % 23));
  std::weak_ptr<std::string> watch = store;
  OutputQueue q;
  std::string want;
  std::mt19937 rng(84);
  {
    const BytesPin pin = store;
    for (int i = 0; i < 120; ++i) {
      std::string own(rng() % 2000, static_cast<char>('a' + i % 26));
      Splices sp;
      size_t at = 0;
      const int n = static_cast<int>(rng() % 4);
      for (int k = 0; k < n; ++k) {
        at = std::min(own.size(), at + rng() % 700);
        const size_t from = rng() % 150000, len = rng() % 30000;
        sp.push_back({at, std::string_view(*store).substr(from, len), pin});
      }
      want += flatten(own, sp);
      q.push(std::move(own), std::move(sp));
    }
  }
  store.reset();
  EXPECT_FALSE(watch.expired()) << "queued frames hold their pins";
  EXPECT_EQ(q.pending(), want.size());
  EXPECT_EQ(q.copy_pending(), want);
  std::string sent;
  while (q.pending() > 0) {
    struct iovec iov[5];
    const size_t max_bytes = 1 + rng() % 40000;
    const int n = q.fill(iov, 5, max_bytes);
    ASSERT_GT(n, 0);
    size_t avail = 0;
    for (int i = 0; i < n; ++i) avail += iov[i].iov_len;
    ASSERT_LE(avail, max_bytes);
    partial_write(q, iov, n, rng, &sent);
    ASSERT_EQ(q.pending(), want.size() - sent.size());
    ASSERT_EQ(sent, want.substr(0, sent.size()));
  }
  EXPECT_EQ(sent, want);
  EXPECT_TRUE(watch.expired()) << "every pin is dropped once its frame is sent";
}

}  // namespace
}  // namespace rustlog
