#include "broker/disk_wait_worker.h"

#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace rustlog {

DiskWaitWorker::DiskWaitWorker() {
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) spdlog::warn("eventfd for the cleaner's disk waits: {}; the loop polls instead", std::strerror(errno));
  // Every signal blocked, as for the sync workers: SIGTERM/SIGINT belong to
  // the event loop's signalfd.
  sigset_t all, old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  thread_ = std::thread([this] { main(); });
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

DiskWaitWorker::~DiskWaitWorker() {
  (void)wait_result();
  state_.store(kStop, std::memory_order_release);
  state_.notify_all();
  thread_.join();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void DiskWaitWorker::submit(DiskWait w) {
  job_ = std::move(w);
  state_.store(kQueued, std::memory_order_release);
  state_.notify_all();
}

std::optional<Status> DiskWaitWorker::take_result() {
  if (state_.load(std::memory_order_acquire) != kDone) return std::nullopt;
  if (wake_fd_ >= 0) {
    uint64_t n;
    (void)!::read(wake_fd_, &n, sizeof n);  // drained: readable again at the next result
  }
  Status r = std::move(result_);
  job_ = nullptr;
  state_.store(kIdle, std::memory_order_release);
  return r;
}

std::optional<Status> DiskWaitWorker::wait_result() {
  for (uint32_t s; (s = state_.load(std::memory_order_acquire)) == kQueued;) state_.wait(s);
  return take_result();
}

void DiskWaitWorker::main() {
  while (true) {
    uint32_t s = state_.load(std::memory_order_acquire);
    if (s == kStop) return;
    if (s != kQueued) {
      state_.wait(s);
      continue;
    }
    result_ = job_();
    state_.store(kDone, std::memory_order_release);
    state_.notify_all();
    if (wake_fd_ >= 0) {
      const uint64_t one = 1;
      if (::write(wake_fd_, &one, sizeof one) != sizeof one)
        spdlog::warn("waking the loop after a disk wait: {}", std::strerror(errno));
    }
  }
}

}  // namespace rustlog
