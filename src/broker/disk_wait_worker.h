#pragma once
// A thread that runs the cleaner's disk waits (the fsyncs of a compaction
// swap, storage/segment_swap.h) so that the event loop does not wait for the
// disk: the loop submits one DiskWait, goes on serving clients, and is woken
// through wake_fd() (an eventfd in its epoll set) when the result is there;
// the cleaner's next step then takes it (take_result) and goes on. One wait
// at a time: the cleaner hands out the next only after the last returned.
//
// The worker touches nothing but the DiskWait it was handed (which owns its
// descriptors); the hand-off is one atomic state word (futex wait/notify),
// no locks. A separate thread rather than the group-commit sync workers:
// those check in together on every produce flush, which must not wait
// behind a swap's fsync.
#include <atomic>
#include <optional>
#include <thread>

#include "common/status.h"
#include "storage/segment_swap.h"

namespace rustlog {

class DiskWaitWorker {
 public:
  DiskWaitWorker();
  // Waits for a wait under way to return (its result is dropped).
  ~DiskWaitWorker();
  DiskWaitWorker(const DiskWaitWorker&) = delete;
  DiskWaitWorker& operator=(const DiskWaitWorker&) = delete;

  // Starts `w` on the worker; none may be under way.
  void submit(DiskWait w);
  // The result once the submitted wait returned (then the worker is free).
  std::optional<Status> take_result();
  // Blocks until the submitted wait returned (shutdown), then takes it.
  std::optional<Status> wait_result();
  bool busy() const { return state_.load(std::memory_order_acquire) != kIdle; }
  // Readable while a result waits to be taken; -1 if no eventfd could be made
  // (the loop then polls: Broker::cleaner_due_in_ms).
  int wake_fd() const { return wake_fd_; }

 private:
  enum : uint32_t { kIdle, kQueued, kDone, kStop };
  void main();

  std::atomic<uint32_t> state_{kIdle};
  DiskWait job_;       // written by the loop before kQueued, read by the worker after
  Status result_;      // written by the worker before kDone, read by the loop after
  int wake_fd_ = -1;
  std::thread thread_;
};

}  // namespace rustlog
