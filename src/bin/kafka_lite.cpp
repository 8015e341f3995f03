// kafka-lite: the RustLog broker process.
#include <fcntl.h>
#include <malloc.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "broker/broker.h"
#include "topics/data_dir.h"
#include "broker/broker_config.h"
#include "broker/event_loop.h"
#include "common/clock.h"
#include "metrics/http_server.h"
#include "metrics/status_json.h"
#include "storage/atomic_file.h"
#include "storage/fault_injection.h"

using namespace rustlog;

namespace {

std::string flag_name(const std::string& key) {
  std::string f = key;
  for (char& ch : f)
    if (ch == '_') ch = '-';
  return "--" + f;
}

// Every connection and every open segment file takes a descriptor: start
// with as many as the hard limit allows, and say how many that is. Returns
// the limit in force (0 when unknown).
rlim_t raise_fd_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) {
    spdlog::warn("getrlimit(RLIMIT_NOFILE): {}", std::strerror(errno));
    return 0;
  }
  const rlim_t before = rl.rlim_cur;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &rl) != 0) {
      spdlog::warn("cannot raise the descriptor limit from {} to {}: {}", before, rl.rlim_max, std::strerror(errno));
      return before;
    }
    spdlog::info("descriptor limit raised from {} to the hard limit {}", before, rl.rlim_cur);
  } else {
    spdlog::info("descriptor limit {} (the hard limit)", rl.rlim_cur);
  }
  return rl.rlim_cur;
}

// Buffers of 4 MiB and more (large partial frames and answers) come from
// mappings of their own and go back to the system when freed. glibc's
// default raises that threshold each time such a buffer is freed (up to
// 32 MiB), after which they come from the heap, which keeps what it once
// held: 150 connections each holding an 8 MiB partial frame under a 128 MiB
// --max-input-bytes grew the broker by 226-244 MiB instead of 143
// (BrokerLimitsLongTest.StalledPartialFramesAreBoundedAndTimedOut). Fixed at
// 4 MiB, not lower: answers of a 1 MiB fetch stay on the heap (a fresh
// mapping per answer cost a consumer a quarter of its rate at 256 KiB).
void fix_malloc_mmap_threshold() {
  constexpr int kThreshold = 4 << 20;
  // (A sanitizer's allocator ignores it.)
  if (::mallopt(M_MMAP_THRESHOLD, kThreshold) != 1) spdlog::debug("mallopt(M_MMAP_THRESHOLD, {}) not applied", kThreshold);
}

// Sealed segments' descriptors may take at most half of the limit: the rest
// is for connections, active segments and metadata files.
void fit_segment_files_to(rlim_t limit, BrokerConfig& cfg) {
  if (limit == 0 || limit == RLIM_INFINITY) return;
  const uint64_t half = std::max<uint64_t>(16, static_cast<uint64_t>(limit) / 2);
  if (cfg.max_open_segment_files <= half) return;
  spdlog::warn("--max-open-segment-files {} lowered to {} (half the descriptor limit {}); raise the "
               "limit (ulimit -n / LimitNOFILE) to keep more sealed segment files open",
               cfg.max_open_segment_files, half, static_cast<uint64_t>(limit));
  cfg.max_open_segment_files = half;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "kafka-lite: the RustLog broker. A single-node, log-structured message broker: append-only\n"
      "partition logs with checksummed batches, consumer-group offsets, and crash recovery.\n"
      "Configuration is fixed at startup: flags, or a TOML file (--config) whose keys are the\n"
      "flag names with '_' for '-'. Flags override the file."};
  app.footer(
      "Examples:\n"
      "  kafka-lite                                   # data in ./data, listen on 127.0.0.1:9092\n"
      "  kafka-lite --listen 127.0.0.1:0 --port-file /tmp/port   # ephemeral port, written to a file\n"
      "  kafka-lite --config broker.toml --flush interval:50\n");
  app.get_formatter()->column_width(40);
  std::string config_file, port_file, metrics_port_file;
  bool init_data_dir = false, recover_topics = false;
  app.add_flag("--init-data-dir", init_data_dir,
               "Use a data dir that is not empty and holds no RustLog data (the broker refuses one "
               "otherwise); what is already in it is left untouched");
  app.add_flag("--recover-topics", recover_topics,
               "Rebuild the topic list (topics.json) from the partition directories found: partition "
               "counts from the directory names, settings from topics.json where it still names the "
               "topic, else the defaults; a log line per topic. Nothing is deleted");
  app.add_option("--config", config_file, "TOML file with any of the options below")->check(CLI::ExistingFile);
  app.add_option("--port-file", port_file, "Write the bound port to this file once listening (for tests and scripts)");
  app.add_option("--metrics-port-file", metrics_port_file,
                 "Write the metrics endpoint's bound port to this file (before --port-file is written)");
  BrokerConfig defaults;
  std::map<std::string, std::string> values;
  std::map<std::string, CLI::Option*> opts;
  for (const auto& o : config_options()) {
    opts[o.name] = app.add_option(flag_name(o.name), values[o.name], o.help)
                       ->default_str(o.get(defaults))
                       ->option_text("[" + o.get(defaults) + "]");
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "kafka-lite: %s (see kafka-lite --help)\n", e.what());
    return 2;
  }

  BrokerConfig cfg;
  if (!config_file.empty()) {
    Status st = apply_toml_file(cfg, config_file);
    if (!st) {
      std::fprintf(stderr, "kafka-lite: %s\n", st.message().c_str());
      return 2;
    }
  }
  for (const auto& o : config_options()) {
    if (opts[o.name]->count() == 0) continue;
    Status st = o.set(cfg, values[o.name]);
    if (!st) {
      std::fprintf(stderr, "kafka-lite: %s: %s\n", flag_name(o.name).c_str(), st.message().c_str());
      return 2;
    }
  }
  if (Status st = validate_config(cfg); !st) {
    std::fprintf(stderr, "kafka-lite: %s\n", st.message().c_str());
    return 2;
  }
  cfg.init_data_dir = init_data_dir;
  cfg.recover_topics = recover_topics;
  spdlog::set_level(spdlog::level::from_str(cfg.log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  fit_segment_files_to(raise_fd_limit(), cfg);
  fix_malloc_mmap_threshold();

  // Read-only: a directory that is not the broker's is refused before
  // anything (even the lock file) is written into it.
  if (Status st = check_data_dir_claim(cfg.data_dir, cfg.init_data_dir, cfg.recover_topics); !st) {
    std::fprintf(stderr, "kafka-lite: %s\n", st.message().c_str());
    return 1;
  }
  std::error_code ec;
  std::filesystem::create_directories(cfg.data_dir, ec);
  if (ec) {
    std::fprintf(stderr, "kafka-lite: cannot create data dir %s: %s\n", cfg.data_dir.c_str(), ec.message().c_str());
    return 1;
  }
  // One broker per data directory.
  const std::string lock_path = cfg.data_dir + "/.lock";
  int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd < 0 || ::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    std::fprintf(stderr, "kafka-lite: data dir %s is in use by another kafka-lite process\n", cfg.data_dir.c_str());
    return 1;
  }

  const auto t0 = std::chrono::steady_clock::now();
  Broker broker(cfg);
  broker.metrics().start_time_unix_ms.set(wall_ms());
  RegistryOpenReport report;
  if (Status st = broker.open(&report); !st) {
    spdlog::error("cannot open data dir {}: {}", cfg.data_dir, st.message());
    return 1;
  }
  // Test hook (the I/O seam, storage/fault_injection.h): RUSTLOG_FAULT arms
  // a failing write or fsync after recovery, so end-to-end tests can fail the
  // disk under a running broker. Unset in production.
  if (const char* spec = std::getenv("RUSTLOG_FAULT"); spec && *spec) {
    if (!fault::arm_from_spec(spec)) {
      std::fprintf(stderr, "kafka-lite: RUSTLOG_FAULT='%s' does not parse (e.g. sync:EIO:skip=40)\n", spec);
      return 2;
    }
    spdlog::warn("RUSTLOG_FAULT={} is set: file I/O will fail on purpose (a test hook)", spec);
  }
  const double ms = ms_since(t0);
  broker.metrics().recovery_duration_ns.set(static_cast<int64_t>(ms * 1e6));
  spdlog::info(
      "recovered {} partitions in {:.1f} ms: {} bytes rescanned, {} bytes truncated, {} indexes rebuilt, "
      "{} corrupt ranges, {} directories of interrupted creates/deletes removed, {} foreign entries left "
      "alone, {} topics recovered",
      report.partitions, ms, report.bytes_scanned, report.bytes_truncated, report.indexes_rebuilt,
      report.corruptions, report.orphans_removed, report.foreign_entries, report.topics_recovered);

  EventLoop loop(broker);
  if (Status st = loop.start(); !st) {
    spdlog::error("{}", st.message());
    return 1;
  }
  // The metrics endpoint: its own thread, reading only atomics and the
  // snapshots the loop publishes. A port that cannot be bound is reported but
  // does not stop the broker (the data path matters more; MetricsFetch still
  // works).
  BrokerIdentity identity{loop.bound_address(), cfg.data_dir, cfg.flush.to_string(), static_cast<int64_t>(::getpid())};
  metrics::HttpServer http({.metrics = [&broker] { return broker.metrics().render(); },
                            .status = [&broker, identity] {
                              const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                                                      std::chrono::system_clock::now().time_since_epoch())
                                                      .count();
                              return render_status_json(broker.metrics(), identity, now);
                            }});
  if (cfg.metrics_listen != "off") {
    std::string host;
    uint16_t mport = 0;
    Status st = BrokerConfig::split_host_port("metrics_listen", cfg.metrics_listen, &host, &mport);
    if (st) st = http.start(host, mport);
    if (!st) spdlog::error("metrics endpoint disabled: {}", st.message());
    else spdlog::info("metrics endpoint on http://{}/metrics, status page on http://{}/", http.bound_address(),
                      http.bound_address());
  }
  if (!metrics_port_file.empty()) {
    if (Status st = write_file_atomic(metrics_port_file, std::to_string(http.port()) + "\n"); !st) {
      spdlog::error("cannot write metrics port file: {}", st.message());
      return 1;
    }
  }
  if (!port_file.empty()) {
    if (Status st = write_file_atomic(port_file, std::to_string(loop.port()) + "\n"); !st) {
      spdlog::error("cannot write port file: {}", st.message());
      return 1;
    }
  }
  spdlog::info("kafka-lite listening on {} (data dir {}, flush {})", loop.bound_address(), cfg.data_dir,
               cfg.flush.to_string());
  const int code = loop.run();
  http.stop();
  return code;
}
