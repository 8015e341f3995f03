#pragma once
// kill -9 harness: a forked child appends deterministic batches to a
// PartitionLog (flush policy `always`) and, after each successful flush(),
// reports the acknowledged last offset through a pipe. The parent kills it
// with SIGKILL at a seeded random moment, reopens the log, and checks that
// every acknowledged batch is there, byte-identical to what
// deterministic_batch(seed, base_offset) produces, and that nothing after it
// is garbage. Used by tests/unit/crash_test.cpp (a few rounds) and
// tests/long/storage_crash_long_test.cpp (hundreds).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "storage/partition_log.h"
#include "support/log_helpers.h"
#include "support/record_gen.h"
#include "support/temp_dir.h"

namespace rustlog::test {

inline GenOptions crash_batch_options() {
  GenOptions o;
  o.max_records = 6;
  o.max_value = 300;
  return o;
}

inline LogConfig crash_config() {
  LogConfig c = small_config(8 * 1024, 512);
  c.flush = FlushPolicy{};  // always
  return c;
}

// The child: never returns. Exit codes name what failed.
[[noreturn]] inline void crash_child(const std::string& dir, uint64_t seed, uint64_t recovery_point,
                                     int ack_fd) {
  auto opened = PartitionLog::open(dir, crash_config(), recovery_point);
  if (!opened) _exit(2);
  auto& log = *opened;
  const GenOptions opt = crash_batch_options();
  for (;;) {
    const uint64_t base = log->high_watermark();
    std::string batch = deterministic_batch(seed, base, opt);
    auto r = log->append(batch, kBaseTimestampUs + static_cast<int64_t>(base) * 1000);
    if (!r || r->base_offset != base) _exit(3);
    if (!log->flush().is_ok()) _exit(4);
    const uint64_t acked = r->last_offset;
    if (::write(ack_fd, &acked, sizeof acked) != static_cast<ssize_t>(sizeof acked)) _exit(5);
  }
}

struct CrashRound {
  bool any_acked = false;
  uint64_t acked = 0;  // last acknowledged offset
  uint64_t high_watermark = 0;
};

// Checks the reopened log: every batch from 0 to the high watermark is the
// deterministic one for its base offset, and it covers everything acked.
inline void verify_crash_log(PartitionLog& log, uint64_t seed, const CrashRound& round) {
  if (round.any_acked) {
    ASSERT_GT(log.high_watermark(), round.acked)
        << "acknowledged offset " << round.acked << " lost";
  }
  const GenOptions opt = crash_batch_options();
  uint64_t off = 0;
  while (off < log.high_watermark()) {
    auto r = log.read(off, 256 * 1024);
    ASSERT_TRUE(r.is_ok()) << "read at " << off << ": " << r.status().to_string();
    ASSERT_FALSE(r->data.empty());
    for (const auto& b : split_batches(r->data)) {
      BatchHeader h;
      ASSERT_EQ(parse_batch_header(reinterpret_cast<const uint8_t*>(b.data()), b.size(), &h),
                BatchError::kOk);
      ASSERT_EQ(h.base_offset, off) << "offsets not dense";
      ASSERT_TRUE(same_bytes(b, deterministic_batch(seed, off, opt)))
          << "batch at " << off << (round.any_acked && off <= round.acked ? " (acknowledged)" : "");
      off = h.next_offset();
    }
  }
  EXPECT_EQ(off, log.high_watermark());
}

// Runs `rounds` kill -9 rounds on one log directory.
inline void run_crash_rounds(uint64_t seed, int rounds, int max_sleep_ms) {
  SCOPED_TRACE(seed_trace(seed));
  TempDir tmp("rustlog-crash");
  const std::string dir = tmp.sub("partition");
  RecordGen g(seed);
  uint64_t recovery_point = 0;
  uint64_t total_acked = 0, kills_during_recovery = 0;
  for (int round = 0; round < rounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    const int sleep_us = static_cast<int>(g.uniform(0, static_cast<uint64_t>(max_sleep_ms) * 1000));
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      crash_child(dir, seed, recovery_point, fds[1]);
    }
    ::close(fds[1]);
    std::this_thread::sleep_for(std::chrono::microseconds(sleep_us));
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "child exited on its own with status " << (WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    CrashRound cr;
    uint64_t v;
    std::string pending;
    char buf[4096];
    for (;;) {
      const ssize_t n = ::read(fds[0], buf, sizeof buf);
      if (n <= 0) break;
      pending.append(buf, static_cast<size_t>(n));
    }
    ::close(fds[0]);
    for (size_t i = 0; i + sizeof v <= pending.size(); i += sizeof v) {
      std::memcpy(&v, pending.data() + i, sizeof v);
      cr.any_acked = true;
      cr.acked = v;
      ++total_acked;
    }
    if (!cr.any_acked) ++kills_during_recovery;
    // Restart: recover from a checkpoint-like recovery point or from scratch.
    const uint64_t rp = g.chance(50) ? 0 : recovery_point;
    auto log = open_log(dir, crash_config(), rp);
    ASSERT_NE(log, nullptr);
    verify_crash_log(*log, seed, cr);
    if (::testing::Test::HasFatalFailure()) return;
    // Everything the reopened log holds is now validated and synced.
    recovery_point = log->recovery_point();
  }
  std::printf(
      "%d kill -9 rounds: %llu acknowledged batches, %llu kills before the first ack, "
      "final log: %llu offsets\n",
      rounds, static_cast<unsigned long long>(total_acked),
      static_cast<unsigned long long>(kills_during_recovery),
      static_cast<unsigned long long>(recovery_point));
}

}  // namespace rustlog::test
