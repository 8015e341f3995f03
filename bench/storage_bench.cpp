// Storage-engine benchmarks (Google Benchmark) on real files.
//
// Every benchmark works in a fresh directory under $RUSTLOG_BENCH_DIR
// (default /var/tmp), which must be on the real disk: the program refuses a
// tmpfs there unless RUSTLOG_BENCH_ALLOW_TMPFS=1. The directory is removed at
// exit. bench/run_storage_bench.sh runs this next to fio baselines; the
// results and targets are in docs/PERFORMANCE.md.
//
// Benchmarks (names are stable: the run script parses them):
//   BatchBuild/value:V/records:N           BatchBuilder cost alone
//   Append/value:V/records:N/flush:never   PartitionLog::append of a batch built at the right offset
//   Append/value:V/records:N/flush:always  append + flush() (fdatasync) per batch
//   Append/value:V/records:100/flush:never/rebase  append of a batch built at offset 0 (CRC redone)
//   SeqRead/warm                 read(off, 1 MiB) over a sealed log, mappings established
//   SeqRead/pass                 one whole pass on a freshly opened log (mmap + page faults)
//   SeqRead/pass/cold            the same after dropping the log's page cache
//   RandomRead                   read(random offset, 1 byte max) = one batch
//   Reopen/clean                 open() with the recovery point from before
//   Reopen/rebuild_indexes       open() after deleting every .index/.timeindex
//   Reopen/full_recovery         open() with recovery point 0 (every batch rescanned)
//   Reopen/full_recovery/cold    the same after dropping the page cache
//
// The SeqRead/pass and Reopen benchmarks also report cpu_user_ms/cpu_sys_ms:
// this thread's CPU time in the timed region per iteration, which a shared,
// loaded machine does not inflate the way it inflates wall time.
//
// Sizes: RUSTLOG_BENCH_LOG_MB (default 1024) for the large log,
// RUSTLOG_BENCH_SEGMENT_MB (default 128) for its segments.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "bench_dir.h"
#include "storage/log_config.h"
#include "storage/partition_log.h"
#include "storage/record_batch.h"

namespace fs = std::filesystem;
using namespace rustlog;

namespace {

std::string g_root;  // this process's temp directory
int g_dir_seq = 0;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "storage_bench: %s\n", what.c_str());
  std::exit(2);
}

std::string fresh_dir(const std::string& name) {
  std::string d = g_root + "/" + name + "-" + std::to_string(g_dir_seq++);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

uint64_t env_u64(const char* name, uint64_t def) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : def;
}

int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::optional<std::string> make_value(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string v(n, '\0');
  for (auto& c : v) c = static_cast<char>(rng());
  return v;
}

// A batch as a producer would send it: null keys, no headers, one
// timestamp per record a microsecond apart.
std::string build_batch(size_t records, const std::optional<std::string>& value, int64_t ts,
                        uint64_t base_offset = 0) {
  static const std::vector<RecordHeader> kNoHeaders;
  static const std::optional<std::string> kNullKey;
  BatchBuilder b(base_offset);
  for (size_t i = 0; i < records; ++i) b.add(ts + static_cast<int64_t>(i), kNullKey, value, kNoHeaders);
  return b.finish();
}

LogConfig make_config(FlushPolicy::Kind flush, uint64_t segment_bytes = 1ull << 30) {
  LogConfig c;
  c.segment_bytes = segment_bytes;
  c.flush.kind = flush;
  return c;
}

std::unique_ptr<PartitionLog> must_open(const std::string& dir, const LogConfig& c, uint64_t rp) {
  auto r = PartitionLog::open(dir, c, rp);
  if (!r) die("open " + dir + ": " + r.status().to_string());
  return std::move(*r);
}

// Drops the page cache of every file in `dir` (clean pages only: the
// fixture syncs everything it wrote).
void drop_page_cache(const std::string& dir) {
  for (const auto& e : fs::directory_iterator(dir)) {
    int fd = ::open(e.path().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    (void)::fdatasync(fd);
    (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
  }
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// This thread's user and system CPU seconds: on a shared machine the wall
// time of a timed region includes waiting for a core; these do not.
struct CpuTimes {
  double user = 0, sys = 0;
  static CpuTimes now() {
    rusage ru{};
    ::getrusage(RUSAGE_THREAD, &ru);
    auto s = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; };
    return {s(ru.ru_utime), s(ru.ru_stime)};
  }
};

// Accumulates the CPU time of timed regions; reports ms per iteration.
struct CpuCounter {
  double user = 0, sys = 0;
  CpuTimes start;
  void begin() { start = CpuTimes::now(); }
  void end() {
    const CpuTimes t = CpuTimes::now();
    user += t.user - start.user;
    sys += t.sys - start.sys;
  }
  void report(benchmark::State& state) const {
    const double n = static_cast<double>(std::max<int64_t>(1, state.iterations()));
    state.counters["cpu_user_ms"] = user * 1e3 / n;
    state.counters["cpu_sys_ms"] = sys * 1e3 / n;
  }
};

// ---------------------------------------------------------------------------
// The large sealed log shared by the read and reopen benchmarks: 100-byte
// values in batches of 100 (10,879-byte batches), RUSTLOG_BENCH_LOG_MB in
// segments of RUSTLOG_BENCH_SEGMENT_MB. Writing stops right after the roll
// into the segment after the last full one, so all of it is in sealed
// segments except one batch in the active one.
struct LargeLog {
  std::string dir;
  LogConfig config;
  uint64_t hwm = 0;
  uint64_t bytes = 0;
  size_t segments = 0;
};

const LargeLog& large_log() {
  static std::optional<LargeLog> built;
  if (built) return *built;
  LargeLog L;
  L.dir = fresh_dir("large");
  L.config = make_config(FlushPolicy::Kind::kNever, env_u64("RUSTLOG_BENCH_SEGMENT_MB", 128) << 20);
  const uint64_t target = env_u64("RUSTLOG_BENCH_LOG_MB", 1024) << 20;
  const auto t0 = std::chrono::steady_clock::now();
  auto log = must_open(L.dir, L.config, 0);
  const auto value = make_value(100, 42);
  int64_t ts = 1'700'000'000'000'000;
  // Full segments hold a little less than segment_bytes (whole batches), so
  // the log is ceil(target / segment_bytes) full sealed segments.
  const size_t full_segments =
      std::max<size_t>(1, static_cast<size_t>((target + L.config.segment_bytes - 1) / L.config.segment_bytes));
  while (log->segment_count() <= full_segments) {
    std::string batch = build_batch(100, value, ts, log->high_watermark());
    ts += 1000;
    auto r = log->append(batch, ts);
    if (!r) die("building the large log: " + r.status().to_string());
  }
  Status st = log->close();
  if (!st) die("close: " + st.to_string());
  L.hwm = log->high_watermark();
  L.bytes = log->size_bytes();
  L.segments = log->segment_count();
  log.reset();
  ::sync();
  std::fprintf(stderr, "storage_bench: large log %s: %.1f MiB, %zu segments, %llu records, built in %.1f s\n",
               L.dir.c_str(), static_cast<double>(L.bytes) / (1 << 20), L.segments,
               static_cast<unsigned long long>(L.hwm), seconds_since(t0));
  built = std::move(L);
  return *built;
}

// ---------------------------------------------------------------------------

void BM_BatchBuild(benchmark::State& state, size_t value_bytes, size_t records) {
  const auto value = make_value(value_bytes, 1);
  const int64_t ts = now_us();
  size_t bytes = 0;
  for (auto _ : state) {
    std::string b = build_batch(records, value, ts);
    bytes += b.size();
    benchmark::DoNotOptimize(b.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * records));
}

// The broker builds the batch while decoding the request, at the base offset
// the log will assign (BatchBuilder(log.high_watermark()): the CRC covers the
// base offset, so append() then has nothing to rewrite). Each iteration does
// the same, untimed, and times only append() (+ flush()) with manual timing;
// BatchBuild measures the building. With `rebase` the batch is built once at
// base offset 0 instead, as a client that cannot know the offset would send
// it: append() then rewrites the base offset and recomputes the CRC.
void BM_Append(benchmark::State& state, size_t value_bytes, size_t records, bool always, bool rebase) {
  const std::string dir = fresh_dir("append");
  auto log = must_open(dir, make_config(always ? FlushPolicy::Kind::kAlways : FlushPolicy::Kind::kNever), 0);
  const int64_t ts = now_us();
  const auto value = make_value(value_bytes, 7);
  std::string batch = build_batch(records, value, ts);
  for (auto _ : state) {
    if (!rebase) batch = build_batch(records, value, ts, log->high_watermark());
    const auto t0 = std::chrono::steady_clock::now();
    auto r = log->append(batch, ts);
    if (!r) {
      state.SkipWithError(r.status().to_string().c_str());
      break;
    }
    if (always && log->flush_due(ts / 1000)) {
      Status st = log->flush();
      if (!st) {
        state.SkipWithError(st.to_string().c_str());
        break;
      }
    }
    state.SetIterationTime(seconds_since(t0));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * batch.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * records));
  state.counters["batch_bytes"] = static_cast<double>(batch.size());
  log.reset();
  fs::remove_all(dir);
}

// Warms a log's mappings (and page cache) with one whole pass.
uint64_t read_all(PartitionLog& log, size_t max_bytes) {
  uint64_t off = log.log_start_offset(), bytes = 0;
  while (off < log.high_watermark()) {
    auto r = log.read(off, max_bytes);
    if (!r) die("read: " + r.status().to_string());
    bytes += r->data.size();
    off = r->next_offset;
  }
  return bytes;
}

void BM_SeqReadWarm(benchmark::State& state) {
  const LargeLog& L = large_log();
  auto log = must_open(L.dir, L.config, L.hwm);
  read_all(*log, 1 << 20);
  uint64_t off = 0, bytes = 0;
  for (auto _ : state) {
    auto r = log->read(off, 1 << 20);
    if (!r) {
      state.SkipWithError(r.status().to_string().c_str());
      break;
    }
    bytes += r->data.size();
    off = r->next_offset == L.hwm ? 0 : r->next_offset;
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

// One iteration = open (untimed) + read everything with 1 MiB reads (timed):
// what a consumer catching up from offset 0 costs, mmap setup and page
// faults included.
void BM_SeqReadPass(benchmark::State& state, bool cold) {
  const LargeLog& L = large_log();
  uint64_t bytes = 0;
  CpuCounter cpu;
  for (auto _ : state) {
    if (cold) drop_page_cache(L.dir);
    auto log = must_open(L.dir, L.config, L.hwm);
    cpu.begin();
    const auto t0 = std::chrono::steady_clock::now();
    const uint64_t n = read_all(*log, 1 << 20);
    state.SetIterationTime(seconds_since(t0));
    cpu.end();
    if (n != L.bytes) die("pass read " + std::to_string(n) + " bytes, expected " + std::to_string(L.bytes));
    bytes += n;
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  cpu.report(state);
}

void BM_RandomRead(benchmark::State& state) {
  const LargeLog& L = large_log();
  auto log = must_open(L.dir, L.config, L.hwm);
  read_all(*log, 1 << 20);
  std::mt19937_64 rng(99);
  std::vector<uint64_t> offsets(1 << 16);
  for (auto& o : offsets) o = rng() % L.hwm;
  size_t i = 0;
  uint64_t bytes = 0;
  for (auto _ : state) {
    auto r = log->read(offsets[i++ & (offsets.size() - 1)], 1);
    if (!r || r->data.empty()) {
      state.SkipWithError("random read failed");
      break;
    }
    bytes += r->data.size();
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

enum class ReopenKind { kClean, kRebuildIndexes, kFullRecovery };

// One iteration = PartitionLog::open (timed, manual time); preparing the
// files and destroying the log object are not timed. Bytes processed = the
// bytes recovery scanned (for the MB/s of rebuild and full recovery).
void BM_Reopen(benchmark::State& state, ReopenKind kind, bool cold) {
  const LargeLog& L = large_log();
  uint64_t scanned = 0;
  CpuCounter cpu;
  for (auto _ : state) {
    if (kind == ReopenKind::kRebuildIndexes) {
      for (const auto& e : fs::directory_iterator(L.dir)) {
        const auto ext = e.path().extension();
        if (ext == ".index" || ext == ".timeindex") fs::remove(e.path());
      }
    }
    if (cold) drop_page_cache(L.dir);
    const uint64_t rp = kind == ReopenKind::kFullRecovery ? 0 : L.hwm;
    cpu.begin();
    const auto t0 = std::chrono::steady_clock::now();
    auto log = must_open(L.dir, L.config, rp);
    state.SetIterationTime(seconds_since(t0));
    cpu.end();
    const RecoveryReport& rep = log->recovery_report();
    if (log->high_watermark() != L.hwm || rep.bytes_truncated != 0 || !rep.corruptions.empty())
      die("reopen changed the log");
    if (kind == ReopenKind::kRebuildIndexes && rep.indexes_rebuilt != L.segments)
      die("expected every index to be rebuilt, got " + std::to_string(rep.indexes_rebuilt));
    if (kind != ReopenKind::kRebuildIndexes && rep.indexes_rebuilt != 0)
      die("a clean reopen rewrote " + std::to_string(rep.indexes_rebuilt) + " indexes");
    scanned += rep.bytes_scanned;
    state.counters["segments"] = static_cast<double>(rep.segments);
    state.counters["log_MiB"] = static_cast<double>(L.bytes) / (1 << 20);
  }
  state.counters["scanned_per_open"] =
      static_cast<double>(scanned) / static_cast<double>(std::max<int64_t>(1, state.iterations()));
  state.SetBytesProcessed(static_cast<int64_t>(scanned));
  cpu.report(state);
}

void register_all() {
  using benchmark::RegisterBenchmark;
  for (size_t v : {100, 1024})
    for (size_t n : {1, 100}) {
      const std::string suffix = "/value:" + std::to_string(v) + "/records:" + std::to_string(n);
      RegisterBenchmark(("BatchBuild" + suffix).c_str(), BM_BatchBuild, v, n)->UseRealTime();
    }
  for (bool always : {false, true})
    for (size_t v : {100, 1024})
      for (size_t n : {1, 100}) {
        const std::string name = "Append/value:" + std::to_string(v) + "/records:" + std::to_string(n) +
                                 (always ? "/flush:always" : "/flush:never");
        RegisterBenchmark(name.c_str(), BM_Append, v, n, always, false)->UseManualTime();
        if (!always && n == 100)
          RegisterBenchmark((name + "/rebase").c_str(), BM_Append, v, n, false, true)->UseManualTime();
      }
  RegisterBenchmark("SeqRead/warm", BM_SeqReadWarm)->UseRealTime();
  RegisterBenchmark("SeqRead/pass", BM_SeqReadPass, false)->UseManualTime()->Unit(benchmark::kMillisecond);
  RegisterBenchmark("SeqRead/pass/cold", BM_SeqReadPass, true)
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond)
      ->Iterations(2);
  RegisterBenchmark("RandomRead", BM_RandomRead)->UseRealTime()->Unit(benchmark::kMicrosecond);
  RegisterBenchmark("Reopen/clean", BM_Reopen, ReopenKind::kClean, false)
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond);
  RegisterBenchmark("Reopen/rebuild_indexes", BM_Reopen, ReopenKind::kRebuildIndexes, false)
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond);
  RegisterBenchmark("Reopen/full_recovery", BM_Reopen, ReopenKind::kFullRecovery, false)
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond);
  RegisterBenchmark("Reopen/full_recovery/cold", BM_Reopen, ReopenKind::kFullRecovery, true)
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond)
      ->Iterations(2);
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  g_root = rustlog::bench::make_bench_dir("storage_bench");
  std::fprintf(stderr, "storage_bench: working in %s\n", g_root.c_str());

  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("bench_dir", g_root);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
