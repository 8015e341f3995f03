#pragma once
// The power-loss crash-state explorer. A workload runs once on a real
// directory while the I/O seam records every file-system change it makes
// (storage/fault_injection.h) and the workload marks each acknowledgement
// it gives. Then, for every prefix of the recorded changes (each crash
// point), FsModel (support/fs_model.h) lists the states a power loss there
// could leave; each is built as a real directory, the workload reopens its
// storage on it, and checks it against the acknowledgements given before
// that point. Identical (state, acknowledgements) pairs are checked once.
//
// Sampled mode (the default suite) checks, at every crash point, the two
// extreme states (all pending changes kept / all lost) and a seeded random
// fraction of the others; exhaustive mode (label `long`) checks all of them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "storage/fault_injection.h"
#include "support/fs_model.h"
#include "support/temp_dir.h"

namespace rustlog::test {

class IoLog final : public fault::IoRecorder {
 public:
  void record(fault::IoEvent e) override {
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(std::move(e));
  }
  size_t size() {
    std::lock_guard<std::mutex> lock(mu_);
    return events_.size();
  }
  const std::vector<fault::IoEvent>& events() const { return events_; }

 private:
  std::mutex mu_;
  std::vector<fault::IoEvent> events_;
};

inline std::string describe_io(const fault::IoEvent& e) {
  using K = fault::IoEvent::Kind;
  switch (e.kind) {
    case K::kCreate: return "create " + e.path;
    case K::kWrite: return "write " + std::to_string(e.data.size()) + " bytes at " + std::to_string(e.offset) + " of " + e.path;
    case K::kTruncate: return "truncate " + e.path + " to " + std::to_string(e.offset);
    case K::kSync: return "fsync " + e.path;
    case K::kDirSync: return "fsync directory " + e.path;
    case K::kRename: return "rename " + e.path + " -> " + e.path2;
    case K::kUnlink: return "unlink " + e.path;
    case K::kMkdir: return "mkdir " + e.path;
    case K::kRmdir: return "rmdir " + e.path;
  }
  return "?";
}

class PowerLossWorkload {
 public:
  virtual ~PowerLossWorkload() = default;
  virtual std::string name() const = 0;
  // Before recording: what is durably on disk when the workload starts.
  virtual void setup(const std::string& /*root*/) {}
  // The recorded run. Calls `ack()` right after each acknowledgement it
  // would give a client (a flushed append, a durable commit, a returned
  // create or delete).
  virtual void run(const std::string& root, const std::function<void()>& ack) = 0;
  // Reopens the storage in `root` (a crash state) and checks it against the
  // first `acked` acknowledgements, with gtest assertions.
  virtual void check(const std::string& root, size_t acked) = 0;
};

struct ExploreOptions {
  bool exhaustive = false;
  double sample = 0.1;  // sampled mode: fraction of the non-extreme states checked
  uint64_t seed = 1;
};

struct ExploreStats {
  size_t events = 0;
  size_t acks = 0;
  size_t crash_points = 0;
  size_t states = 0;    // states the model listed, over all crash points
  size_t checked = 0;   // distinct (state, acknowledgements) pairs reopened and checked
};

inline ExploreStats explore(PowerLossWorkload& w, const ExploreOptions& opt) {
  ExploreStats stats;
  // On tmpfs when there is one: the checks fsync a lot, and the model (not
  // the file system under it) decides what a power loss keeps.
  TempDir tmp("rustlog-powerloss", fast_temp_base());
  const std::string root = tmp.sub("data");
  std::filesystem::create_directory(root);
  w.setup(root);
  if (::testing::Test::HasFatalFailure()) return stats;

  FsModel model(root);
  IoLog log;
  std::vector<size_t> ack_at;  // events recorded before each acknowledgement
  fault::set_recorder(&log);
  w.run(root, [&] { ack_at.push_back(log.size()); });
  fault::set_recorder(nullptr);
  if (::testing::Test::HasFatalFailure()) return stats;
  const auto& events = log.events();
  stats.events = events.size();
  stats.acks = ack_at.size();

  std::mt19937_64 rng(opt.seed);
  std::uniform_real_distribution<double> coin(0, 1);
  std::set<size_t> seen;
  const std::string crash_dir = tmp.sub("crash");
  for (size_t k = 0; k <= events.size(); ++k) {
    size_t acked = 0;
    while (acked < ack_at.size() && ack_at[acked] <= k) ++acked;
    const auto states = model.crash_states();
    ++stats.crash_points;
    stats.states += states.size();
    for (size_t i = 0; i < states.size(); ++i) {
      if (i >= 2 && !opt.exhaustive && coin(rng) >= opt.sample) continue;
      std::error_code ec;
      std::filesystem::remove_all(crash_dir, ec);
      const std::string sig = model.materialize(states[i], crash_dir);
      if (!seen.insert(std::hash<std::string>()(sig) * 31 + acked).second) continue;
      ++stats.checked;
      SCOPED_TRACE(w.name() + ": crash after " + std::to_string(k) + " of " + std::to_string(events.size()) +
                   " changes (" + (k ? describe_io(events[k - 1]) : std::string("none yet")) + "), " +
                   std::to_string(acked) + " acknowledged; state: " + states[i].label);
      w.check(crash_dir, acked);
      if (::testing::Test::HasFailure()) return stats;
    }
    if (k < events.size()) model.apply(events[k]);
  }
  for (const auto& u : model.unknown_events()) ADD_FAILURE() << w.name() << ": the model missed a change: " << u;
  std::printf("power-loss %s: %zu recorded changes, %zu acknowledgements, %zu crash points, %zu crash states "
              "listed, %zu distinct states checked (%s)\n",
              w.name().c_str(), stats.events, stats.acks, stats.crash_points, stats.states, stats.checked,
              opt.exhaustive ? "exhaustive" : "sampled");
  std::fflush(stdout);
  return stats;
}

}  // namespace rustlog::test
