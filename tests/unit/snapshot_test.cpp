// SnapshotCell (metrics/snapshot.h): readers see the latest snapshot, and an
// old one is freed only after its last reader let go.
#include "metrics/snapshot.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace rustlog::metrics {
namespace {

TEST(SnapshotCell, ReadersSeeTheLatestAndOldObjectsWaitForReaders) {
  SnapshotCell<int> cell;
  EXPECT_EQ(cell.read([](const int* p) { return p ? *p : -1; }), -1);
  cell.publish(std::make_unique<int>(1));
  EXPECT_EQ(cell.read([](const int* p) { return *p; }), 1);
  cell.publish(std::make_unique<int>(2));
  EXPECT_EQ(cell.retired(), 0u);  // no reader: freed at once
  // A publish while a reader is inside keeps the old object alive.
  cell.read([&](const int* p) {
    cell.publish(std::make_unique<int>(3));
    EXPECT_EQ(*p, 2);
    EXPECT_EQ(cell.retired(), 1u);
    return 0;
  });
  cell.reclaim();
  EXPECT_EQ(cell.retired(), 0u);
  EXPECT_EQ(cell.read([](const int* p) { return *p; }), 3);
}

TEST(SnapshotCell, ConcurrentReaderNeverSeesAFreedSnapshot) {
  SnapshotCell<std::vector<int>> cell;
  cell.publish(std::make_unique<std::vector<int>>(100, 0));
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> reads{0};
  std::thread reader([&] {
    while (!stop.load()) {
      cell.read([&](const std::vector<int>* v) {
        // Every element equals the first: a torn or freed vector would not.
        for (int x : *v) EXPECT_EQ(x, v->front());
        return 0;
      });
      reads.fetch_add(1);
    }
  });
  // Publish while the reader is really reading (it may start late).
  while (reads.load() == 0) std::this_thread::yield();
  for (int i = 1; i <= 20000; ++i) cell.publish(std::make_unique<std::vector<int>>(100, i));
  stop = true;
  reader.join();
  cell.reclaim();
  EXPECT_GT(reads.load(), 0u);
  EXPECT_EQ(cell.retired(), 0u);
}

}  // namespace
}  // namespace rustlog::metrics
