#include "broker/parallel_flush.h"

#include <pthread.h>
#include <signal.h>

#include "common/clock.h"

namespace rustlog {

ParallelFlusher::ParallelFlusher(unsigned workers, BrokerMetrics* metrics) : metrics_(metrics) {
  // Workers start with every signal blocked: SIGTERM/SIGINT must reach the
  // event loop's signalfd (a worker with them unblocked would take the
  // default action and kill the process without the clean shutdown).
  sigset_t all, old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  for (unsigned i = 0; i < workers; ++i) threads_.emplace_back([this] { worker_main(); });
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

ParallelFlusher::~ParallelFlusher() {
  stop_.store(true, std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  generation_.notify_all();
  for (auto& t : threads_) t.join();
}

void ParallelFlusher::flush_all(const std::vector<PartitionLog*>& logs) {
  if (logs.empty()) return;
  if (logs.size() == 1 || threads_.empty()) {
    for (PartitionLog* l : logs) flush_one(l);
    return;
  }
  batch_ = &logs;
  next_.store(0, std::memory_order_relaxed);
  // Every worker checks in once per batch, so none can still hold this batch
  // when flush_all returns.
  remaining_.store(threads_.size(), std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_acq_rel);  // publishes batch_
  generation_.notify_all();
  // The loop thread takes a share of the work too.
  for (size_t i; (i = next_.fetch_add(1, std::memory_order_acq_rel)) < logs.size();) flush_one(logs[i]);
  for (size_t r; (r = remaining_.load(std::memory_order_acquire)) != 0;) remaining_.wait(r);
  batch_ = nullptr;
}

void ParallelFlusher::worker_main() {
  // The generation at construction, not whatever it is when this thread first
  // runs: a worker scheduled after the first batch (or after the stop) must
  // still see it, or flush_all (or the destructor's join) waits forever.
  uint64_t seen = 0;
  while (true) {
    generation_.wait(seen, std::memory_order_acquire);
    seen = generation_.load(std::memory_order_acquire);
    if (stop_.load(std::memory_order_acquire)) return;
    const std::vector<PartitionLog*>* b = batch_;
    for (size_t i; (i = next_.fetch_add(1, std::memory_order_acq_rel)) < b->size();) flush_one((*b)[i]);
    if (remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1) remaining_.notify_all();
  }
}

void ParallelFlusher::flush_one(PartitionLog* log) {
  if (!metrics_ || !log->has_unflushed() || log->read_only()) {  // nothing to sync: not an fsync
    (void)log->flush();
    return;
  }
  const int64_t t0 = steady_ns();
  const Status st = log->flush();
  const int64_t ns = steady_ns() - t0;
  metrics_->fsync_latency.record(static_cast<uint64_t>(ns));
  if (!st) metrics_->fsync_errors.inc();
}

}  // namespace rustlog
