// Determinism as a tested property: the same sequence of requests, with the
// clock injected (Broker::handle takes the time), gives a byte-identical data
// directory, every file included (segments, indexes, time indexes, the
// recovery checkpoint, topics.json, __consumer_offsets). Two separate
// processes run the sequence on their own data directories: create topics,
// produce (v0 and extended, keys, headers, broker and producer
// timestamps), segment rolls, commits, a clean restart, more of the same,
// a topic deletion, size retention deleting segments and the cleaner
// compacting a topic on the loop's tick; then the trees are compared byte for byte.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>

#include "broker/broker.h"
#include "protocol/codec.h"
#include "support/temp_dir.h"

namespace rustlog {
namespace {

using namespace protocol;

// Runs the request sequence; returns a non-zero code naming what failed.
int run_sequence(const std::string& data_dir) {
  spdlog::set_level(spdlog::level::off);
  BrokerConfig cfg;
  cfg.data_dir = data_dir;
  cfg.retention_check_interval_ms = 10;  // every few requests of the injected clock
  cfg.segment_floors = {.bytes = 1024, .ms = 1};  // tiny segments: many rolls in a short sequence
  int64_t now_us = 1'760'000'000'000'000;
  int step = 0;
  auto session = [&](const std::vector<Request>& requests) -> int {
    Broker b(cfg);
    if (!b.open(nullptr).is_ok()) return 1;
    for (const Request& req : requests) {
      ++step;
      now_us += 1'357;  // the injected clock: every request a little later
      std::string frame;
      if (!encode_request(req, frame).is_ok()) return 2;
      Outcome o = b.handle(std::string_view(frame).substr(kFrameHeaderBytes), now_us);
      const std::string* answer = nullptr;
      if (auto* r = std::get_if<outcome::Ready>(&o)) answer = &r->frame;
      if (auto* a = std::get_if<outcome::AwaitFlush>(&o)) answer = &a->frame;
      std::string admin_answer;  // a create or delete: the loop's steps, all at once here
      if (auto* s = std::get_if<outcome::AdminSteps>(&o)) {
        for (auto& d : b.admin_step(now_us, /*all=*/true))
          if (d.job == s->job) admin_answer = std::move(d.frame);
        if (!admin_answer.empty()) answer = &admin_answer;
      }
      if (!answer) return 6;
      b.group_commit(now_us / 1000, /*all=*/true);  // the loop's group commit
      b.tick(now_us);                                // and its periodic work (rolls, retention)
      b.settle_cleaner(now_us);                      // a swap's fsyncs return at this point, not whenever
      auto resp = decode_response(std::string_view(*answer).substr(kFrameHeaderBytes));
      if (!resp.is_ok() || std::holds_alternative<ErrorResponse>(*resp)) {
        std::fprintf(stderr, "step %d answered %s\n", step,
                     resp.is_ok() ? std::get<ErrorResponse>(*resp).message.c_str() : "garbage");
        return 3;
      }
    }
    return b.shutdown().is_ok() ? 0 : 5;
  };
  std::vector<Request> first, second;
  first.push_back(CreateTopicExRequest{"orders", 2, {{"segment.bytes", "1024"}, {"index.interval.bytes", "128"}}});
  first.push_back(CreateTopicExRequest{"audit", 1, {{"flush", "always"}}});
  // Size retention deletes its oldest segments as the sequence goes.
  first.push_back(CreateTopicExRequest{"expiring", 1, {{"segment.bytes", "1024"}, {"retention.bytes", "2048"}}});
  // Compaction cleans it on the tick: keys overwritten, a tombstone.
  first.push_back(CreateTopicExRequest{"profiles", 1, {{"segment.bytes", "1024"}, {"cleanup.policy", "compact"},
                                                       {"min.cleanable.dirty.ratio", "0.01"}}});
  for (int i = 0; i < 40; ++i) {
    const uint32_t p = static_cast<uint32_t>(i % 2);
    if (i % 3 == 0) {
      first.push_back(ProduceRequest{"orders", p, {"v0 record " + std::to_string(i), std::string(50 + i, 'x')}});
    } else {
      ProduceExRequest pe{"orders", p, -1, {}};
      pe.records.push_back({-1, "key-" + std::to_string(i % 5), "value " + std::to_string(i), {{"h", "1"}}});
      pe.records.push_back({1'700'000'000'000'000 + i, std::nullopt, std::string(i * 3, 'y'), {}});
      first.push_back(pe);
    }
    first.push_back(ProduceRequest{"expiring", 0, {std::string(300, char('k' + i % 10))}});
    {
      ProduceExRequest pe{"profiles", 0, -1, {}};
      const bool tombstone = i % 11 == 10;
      pe.records.push_back({-1, "user-" + std::to_string(i % 4),
                            tombstone ? std::nullopt : std::optional<std::string>(std::string(120, char('a' + i % 26))), {}});
      first.push_back(pe);
    }
    if (i % 4 == 3) first.push_back(OffsetCommitRequest{"g" + std::to_string(i % 3), "orders", p, uint64_t(i)});
  }
  first.push_back(ProduceRequest{"audit", 0, {"before restart"}});
  second.push_back(ProduceRequest{"audit", 0, {"after restart"}});
  for (int i = 0; i < 20; ++i) {
    second.push_back(ProduceRequest{"orders", static_cast<uint32_t>(i % 2), {std::string(80, char('a' + i))}});
    second.push_back(OffsetCommitRequest{"g0", "orders", static_cast<uint32_t>(i % 2), uint64_t(20 + i)});
  }
  second.push_back(CreateTopicExRequest{"scratch", 1, {}});
  second.push_back(ProduceRequest{"scratch", 0, {"soon gone"}});
  second.push_back(DeleteTopicRequest{"scratch"});
  if (int rc = session(first)) return rc;
  return session(second);  // a clean restart in between
}

// Every file under `root` by relative path, with its bytes.
std::map<std::string, std::string> tree(const std::string& root) {
  std::map<std::string, std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
    const std::string rel = std::filesystem::relative(e.path(), root).string();
    out[rel] = e.is_directory() ? std::string("<dir>") : test::read_bytes(e.path().string());
  }
  return out;
}

TEST(DeterminismTest, SameRequestsAndClockGiveAByteIdenticalDataDirInTwoProcesses) {
  test::TempDir tmp("rustlog-determinism");
  std::vector<std::string> dirs = {tmp.sub("a"), tmp.sub("b")};
  for (const auto& dir : dirs) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) _exit(run_sequence(dir));
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status)) << "the child died";
    ASSERT_EQ(WEXITSTATUS(status), 0) << "the sequence failed (1 open, 2 encode, 3 error reply, 5 shutdown, 6 unexpected outcome)";
  }
  const auto a = tree(dirs[0]), b = tree(dirs[1]);
  size_t segments = 0, bytes = 0;
  for (const auto& [path, content] : a) {
    auto it = b.find(path);
    if (it == b.end()) {
      ADD_FAILURE() << path << " exists only in the first run";
      continue;
    }
    EXPECT_TRUE(test::same_bytes(content, it->second)) << path;
    segments += path.size() > 4 && path.compare(path.size() - 4, 4, ".log") == 0;
    bytes += content.size();
  }
  for (const auto& [path, content] : b)
    if (!a.count(path)) ADD_FAILURE() << path << " exists only in the second run";
  // The sequence did what it says: rolls, commits, the checkpoint, a deleted topic gone.
  EXPECT_GT(segments, 6u);
  EXPECT_TRUE(a.count("topics.json"));
  EXPECT_TRUE(a.count("recovery-point-offset-checkpoint"));
  EXPECT_TRUE(a.count("__consumer_offsets-0/00000000000000000000.log"));
  EXPECT_FALSE(a.count("scratch-0"));
  EXPECT_TRUE(a.count("expiring-0/log-start-offset")) << "retention never ran";
  EXPECT_TRUE(a.count("profiles-0/cleaner-offset-checkpoint")) << "the cleaner never finished a pass";
  EXPECT_FALSE(a.count("expiring-0/00000000000000000000.log")) << "retention never deleted a segment";
  std::printf("determinism: %zu files and directories, %zu segments, %zu bytes identical across two processes\n",
              a.size(), segments, bytes);
}

}  // namespace
}  // namespace rustlog
