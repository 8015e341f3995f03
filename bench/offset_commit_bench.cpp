// The cost of one offset commit in __consumer_offsets (Google Benchmark, real
// files): OffsetStore::commit, which writes the primary batch and its mirror
// in one write (docs/STORAGE.md, section 15), against the single batch a
// commit was before mirrors existed, appended the same way. Both run in the
// same process, interleaved, on the partition configuration the broker uses
// (every batch indexed). docs/PERFORMANCE.md, "Offset commits".
//
//   OffsetCommit/single_batch/flush:never  build + append of one commit batch (the
//                                          format before mirrors)
//   OffsetCommit/store/flush:never         OffsetStore::commit (now two batches, one write)
//   OffsetCommit/.../flush:always         the same + flush() (fdatasync), what an
//                                         acknowledged commit costs when alone in its sync
//
// Works in a fresh directory under $RUSTLOG_BENCH_DIR (default /var/tmp; not
// a tmpfs unless RUSTLOG_BENCH_ALLOW_TMPFS=1), removed at exit.
#include <benchmark/benchmark.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench_dir.h"
#include "offsets/offset_store.h"
#include "storage/partition_log.h"
#include "storage/record_batch.h"

using namespace rustlog;

namespace {

std::string g_root;
int g_seq = 0;
constexpr int64_t kT0 = 1'700'000'000'000'000;
constexpr int kApplyEvery = 1024;  // flush:never: pending commits are settled this often, untimed

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "offset_commit_bench: %s\n", what.c_str());
  std::exit(2);
}

std::unique_ptr<PartitionLog> open_offsets_log() {
  LogConfig c;
  c.segment_bytes = 100ull << 20;  // --offsets-segment-bytes' default
  c.index_interval_bytes = 0;      // as the broker configures __consumer_offsets
  const std::string dir = g_root + "/__consumer_offsets-" + std::to_string(g_seq++);
  auto r = PartitionLog::open(dir, c, 0);
  if (!r) die("open " + dir + ": " + r.status().to_string());
  return std::move(*r);
}

// A group committing in turn to 12 partitions of one topic.
GroupKey key_for(int64_t i) { return GroupKey{"billing", "orders", static_cast<uint32_t>(i % 12)}; }

void BM_SingleBatch(benchmark::State& state, bool flush) {
  auto log = open_offsets_log();
  int64_t i = 0;
  for (auto _ : state) {
    BatchBuilder b(log->high_watermark());
    b.add(kT0 + i, encode_group_key(key_for(i)), encode_offset_value(static_cast<uint64_t>(i), kT0 + i), {});
    std::string bytes = b.finish();
    if (!log->append(bytes, kT0 + i)) die("append failed");
    if (flush && !log->flush()) die("flush failed");
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["bytes_per_commit"] = static_cast<double>(log->size_bytes()) / static_cast<double>(i);
}

void BM_Store(benchmark::State& state, bool flush) {
  auto log = open_offsets_log();
  OffsetStore store(log.get());
  int64_t i = 0;
  for (auto _ : state) {
    if (!store.commit(key_for(i), static_cast<uint64_t>(i), kT0 + i)) die("commit failed");
    if (flush) {
      if (!log->flush()) die("flush failed");
      store.apply_durable();
    } else if ((i + 1) % kApplyEvery == 0) {
      state.PauseTiming();
      if (!log->flush()) die("flush failed");
      store.apply_durable();
      state.ResumeTiming();
    }
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["bytes_per_commit"] = static_cast<double>(log->size_bytes()) / static_cast<double>(i);
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  g_root = rustlog::bench::make_bench_dir("offset_commit_bench");

  for (bool flush : {false, true}) {
    const std::string f = flush ? "/flush:always" : "/flush:never";
    benchmark::RegisterBenchmark(("OffsetCommit/single_batch" + f).c_str(), BM_SingleBatch, flush)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("OffsetCommit/store" + f).c_str(), BM_Store, flush)
        ->Unit(benchmark::kMicrosecond);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
