// ParallelFlusher: every batch is flushed and returns, and the flusher can be
// destroyed, however late its worker threads get scheduled (a worker that
// starts after the first batch or after the stop must still see them).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "broker/parallel_flush.h"
#include "storage/record_batch.h"
#include "support/temp_dir.h"

namespace rustlog {
namespace {

using namespace std::chrono_literals;

// Runs `body` on a thread; fails (and leaks the stuck thread, so the test
// binary can still report) when it does not finish within `limit`.
::testing::AssertionResult finishes_within(std::chrono::seconds limit, std::function<void()> body) {
  auto done = std::make_shared<std::promise<void>>();
  auto fut = done->get_future();
  std::thread([body = std::move(body), done] {
    body();
    done->set_value();
  }).detach();
  if (fut.wait_for(limit) == std::future_status::ready) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "still running after " << limit.count() << " s (hang)";
}

TEST(ParallelFlushTest, DestroyedRightAfterConstructionDoesNotHang) {
  EXPECT_TRUE(finishes_within(60s, [] {
    for (int i = 0; i < 2000; ++i) ParallelFlusher f(4);
  }));
}

TEST(ParallelFlushTest, FirstBatchRightAfterConstructionIsFlushedAndReturns) {
  test::TempDir dir("parallel-flush");
  std::vector<std::unique_ptr<PartitionLog>> logs;
  std::vector<PartitionLog*> ptrs;
  for (int p = 0; p < 6; ++p) {
    auto l = PartitionLog::open(dir.sub("p" + std::to_string(p)), LogConfig{}, 0);
    ASSERT_TRUE(l) << l.status().to_string();
    ptrs.push_back(l->get());
    logs.push_back(std::move(*l));
  }
  EXPECT_TRUE(finishes_within(60s, [&] {
    for (int round = 0; round < 300; ++round) {
      for (PartitionLog* l : ptrs) {
        BatchBuilder b;
        b.add(1, std::nullopt, std::string("v"), {});
        std::string batch = b.finish();
        ASSERT_TRUE(l->append(batch, 1));
      }
      ParallelFlusher f(3);  // new workers each round: the batch may come before they run
      f.flush_all(ptrs);
      for (PartitionLog* l : ptrs) ASSERT_FALSE(l->has_unflushed()) << "round " << round;
    }
  }));
}

}  // namespace
}  // namespace rustlog
