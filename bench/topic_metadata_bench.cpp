// What a topic create costs the metadata as topics grow (docs/PERFORMANCE.md,
// "Topic metadata"), on a data directory that already lists N topics:
//
//   MetadataCommit/snapshot/N   the former commit: every topic serialised to
//                               topics.json, written to a temp file, fsynced,
//                               renamed, directory fsynced
//   MetadataCommit/log/N        the commit now: one record appended to
//                               topics.log and fdatasynced
//   TopicCreate/log/N           TopicRegistry::create of a 1-partition topic
//                               (directory, marker, segment files, commit)
//   TopicCreate/snapshot/N      the same with the log compacted on every
//                               change (the snapshot rewrite of before, plus
//                               the empty log's atomic write)
//   TopicPartitions/create/P    TopicRegistry::create of one P-partition
//                               topic: the broker's loop does nothing else
//                               meanwhile, so this is the stall every other
//                               client sees (P = --max-partitions' default)
//   TopicPartitions/delete/P    TopicRegistry::remove of it
//
// The N topics are set up by writing topics.json directly (no create each).
// Run: build/release/bench/topic_metadata_bench (RUSTLOG_BENCH_DIR on the
// real disk, default /var/tmp).
#include <benchmark/benchmark.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "bench_dir.h"
#include "storage/atomic_file.h"
#include "topics/topic_metadata.h"
#include "topics/topic_registry.h"

namespace rustlog::bench {
namespace {

const std::string& make_bench_dir_once() {
  static const std::string root = make_bench_dir("topic_metadata_bench");
  return root;
}

TopicConfig bench_topic() {
  TopicConfig c;
  c.partitions = 1;
  (void)c.set("segment.bytes", "1048576");
  return c;
}

// A data directory listing `n` topics (1 partition each; their directories
// are made by the first open).
std::string make_data_dir(int64_t n, const std::string& tag) {
  const std::string dir = make_bench_dir_once() + "/" + tag + "-" + std::to_string(n);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  nlohmann::json topics = nlohmann::json::object();
  for (int64_t i = 0; i < n; ++i)
    topics["topic-" + std::to_string(i)] = nlohmann::json::parse(topic_config_json(bench_topic()));
  nlohmann::json j = {{"version", 1}, {"topics", topics}};
  if (!write_file_atomic(dir + "/" + kTopicMetadataFile, j.dump(2) + "\n").is_ok()) std::abort();
  return dir;
}

void MetadataCommit(benchmark::State& state, bool log) {
  const int64_t n = state.range(0);
  const std::string dir = make_data_dir(n, log ? "commit-log" : "commit-snapshot");
  auto read = read_topic_metadata(dir);
  if (!read) std::abort();
  TopicConfigs topics = read->topics;
  TopicMetadataLog meta(dir);
  if (!meta.open(*read, topics).is_ok()) std::abort();
  meta.set_min_compact_records(uint64_t{1} << 40);  // the appends alone (compaction: TopicCreate)
  int64_t i = 0;
  for (auto _ : state) {
    const std::string name = "new-" + std::to_string(i++);
    if (log) {
      if (!meta.append_set(name, bench_topic()).is_ok()) state.SkipWithError("append failed");
    } else {
      // Exactly the former TopicRegistry::write_metadata_file.
      topics[name] = bench_topic();
      nlohmann::json j = nlohmann::json::object();
      j["version"] = 1;
      nlohmann::json t = nlohmann::json::object();
      for (const auto& [k, c] : topics) t[k] = nlohmann::json::parse(topic_config_json(c));
      j["topics"] = t;
      if (!write_file_atomic(dir + "/" + kTopicMetadataFile, j.dump(2) + "\n").is_ok())
        state.SkipWithError("write failed");
      topics.erase(name);
    }
  }
  state.counters["topics"] = static_cast<double>(n);
}

void TopicCreate(benchmark::State& state, bool log) {
  const int64_t n = state.range(0);
  const std::string dir = make_data_dir(n, log ? "create-log" : "create-snapshot");
  TopicRegistry reg(dir, 16);
  if (!reg.open(nullptr).is_ok()) std::abort();
  if (!log) reg.set_min_compact_records(0);
  int64_t i = 0;
  for (auto _ : state) {
    const std::string name = "new-" + std::to_string(i++);
    if (!reg.create(name, bench_topic()).is_ok()) state.SkipWithError("create failed");
    state.PauseTiming();
    if (!reg.remove(name).is_ok()) state.SkipWithError("remove failed");
    state.ResumeTiming();
  }
  state.counters["topics"] = static_cast<double>(n);
}

void TopicPartitions(benchmark::State& state, bool create) {
  const int64_t p = state.range(0);
  const std::string dir = make_data_dir(0, create ? "partitions-create" : "partitions-delete");
  TopicRegistry reg(dir, 16);
  if (!reg.open(nullptr).is_ok()) std::abort();
  TopicConfig c = bench_topic();
  c.partitions = static_cast<uint32_t>(p);
  int64_t i = 0;
  for (auto _ : state) {
    const std::string name = "wide-" + std::to_string(i++);
    if (!create) state.PauseTiming();
    if (!reg.create(name, c).is_ok()) state.SkipWithError("create failed");
    if (create) state.PauseTiming();
    else state.ResumeTiming();
    if (!reg.remove(name).is_ok()) state.SkipWithError("remove failed");
    if (create) state.ResumeTiming();
  }
  state.counters["partitions"] = static_cast<double>(p);
}

void Sizes(benchmark::internal::Benchmark* b) {
  b->Arg(100)->Arg(6600)->Unit(benchmark::kMillisecond)->MinTime(2.0);
}

BENCHMARK_CAPTURE(MetadataCommit, snapshot, false)->Apply(Sizes);
BENCHMARK_CAPTURE(MetadataCommit, log, true)->Apply(Sizes);
BENCHMARK_CAPTURE(TopicCreate, snapshot, false)->Apply(Sizes);
BENCHMARK_CAPTURE(TopicCreate, log, true)->Apply(Sizes);
BENCHMARK_CAPTURE(TopicPartitions, create, true)->Arg(1000)->Unit(benchmark::kMillisecond)->Iterations(5);
BENCHMARK_CAPTURE(TopicPartitions, delete, false)->Arg(1000)->Unit(benchmark::kMillisecond)->Iterations(5);

}  // namespace
}  // namespace rustlog::bench

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::err);  // the first open warns for each of the N partition directories
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
