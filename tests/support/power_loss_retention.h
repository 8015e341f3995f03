#pragma once
// The retention-deletion write path under the power-loss explorer
// (support/crash_explorer.h): PartitionLog::delete_oldest_segments (the
// log-start checkpoint, then `.deleted` renames and a directory fsync) and
// purge_deleted (the unlinks), interleaved with flushed appends and rolls.
// Each reopen must find:
//   - a log start that is one of the values written and not below the last
//     acknowledged deletion (deleted data never comes back);
//   - every record from the log start up, byte-identical at its offset,
//     reaching past the last acknowledged append;
//   - `rustlog verify` clean, and no segment file below the log start.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "support/power_loss_workloads.h"

namespace rustlog::test {

class RetentionDeleteWorkload : public PowerLossWorkload {
 public:
  explicit RetentionDeleteWorkload(int rounds) : rounds_(rounds) {}
  std::string name() const override { return "retention deletion"; }
  void setup(const std::string& root) override {
    std::filesystem::create_directory(root + "/t-0");
    auto log = open_log(root + "/t-0", power_loss_log_config(), 0);
    ASSERT_NE(log, nullptr);
    while (log->segment_count() < 8) setup_last_ = append_flushed(*log, kSeed);
    ASSERT_TRUE(log->close().is_ok());
  }
  void run(const std::string& root, const std::function<void()>& ack) override {
    auto log = open_log(root + "/t-0", power_loss_log_config(), setup_last_ + 1);
    ASSERT_NE(log, nullptr);
    for (int i = 0; i < rounds_; ++i) {
      // One append (acknowledged once flushed), then a deletion of the two
      // oldest sealed segments (acknowledged once it returns: with two, a
      // crash between the renames must not leave a hole), then the unlinks.
      acks_.push_back(Ack{append_flushed(*log, kSeed), std::nullopt});
      ack();
      if (log->segment_count() < 2) continue;
      const size_t n = std::min<size_t>(2, log->segment_count() - 1);
      auto r = log->delete_oldest_segments(n);
      ASSERT_TRUE(r.is_ok()) << r.status().to_string();
      ASSERT_EQ(r->segments_deleted, n);
      starts_.insert(log->log_start_offset());
      acks_.push_back(Ack{std::nullopt, log->log_start_offset()});
      ack();
      ASSERT_TRUE(log->purge_deleted().is_ok());
    }
    ASSERT_GT(log->log_start_offset(), 0u);
  }
  void check(const std::string& root, size_t acked) override {
    std::optional<uint64_t> last_append;
    uint64_t min_start = 0;
    if (setup_last_ != kNone) last_append = setup_last_;
    for (size_t i = 0; i < acked; ++i) {
      if (acks_[i].appended) last_append = acks_[i].appended;
      if (acks_[i].log_start) min_start = *acks_[i].log_start;
    }
    auto log = open_log(root + "/t-0", power_loss_log_config(), 0);
    ASSERT_NE(log, nullptr);
    const uint64_t start = log->log_start_offset();
    ASSERT_TRUE(start == 0 || starts_.count(start)) << "log start " << start << " was never written";
    ASSERT_GE(start, min_start) << "an acknowledged deletion came back: log start " << start;
    if (last_append) {
      ASSERT_GT(log->high_watermark(), *last_append) << "acknowledged offset " << *last_append << " lost";
    }
    uint64_t off = start;
    while (off < log->high_watermark()) {
      auto r = log->read(off, 1 << 20);
      ASSERT_TRUE(r.is_ok()) << "read at " << off << ": " << r.status().to_string();
      ASSERT_FALSE(r->data.empty()) << "nothing at " << off << "; segments: " << describe_segments(*log);
      for (const auto& b : split_batches(r->data)) {
        BatchHeader h;
        ASSERT_EQ(parse_batch_header(reinterpret_cast<const uint8_t*>(b.data()), b.size(), &h), BatchError::kOk);
        ASSERT_EQ(h.base_offset, off) << "offsets not dense above the log start";
        ASSERT_TRUE(same_bytes(b, deterministic_batch(kSeed, off, power_loss_batch_options())))
            << "batch at " << off;
        off = h.next_offset();
      }
    }
    for (const auto& e : std::filesystem::directory_iterator(root + "/t-0")) {
      const std::string n = e.path().filename().string();
      if (n.size() > 4 && n.substr(n.size() - 4) == ".log") {
        EXPECT_GE(Segment::parse_log_file_name(n).value_or(start), start) << n << " below the log start";
      }
    }
    log.reset();
    expect_verify_clean(root, kPowerLossIndexInterval);
  }

 private:
  static constexpr uint64_t kSeed = 1505;
  static constexpr uint64_t kNone = ~0ull;
  struct Ack {
    std::optional<uint64_t> appended;   // last offset of a flushed append
    std::optional<uint64_t> log_start;  // the log start a deletion set
  };
  int rounds_;
  uint64_t setup_last_ = kNone;
  std::vector<Ack> acks_;
  std::set<uint64_t> starts_;
};

}  // namespace rustlog::test
