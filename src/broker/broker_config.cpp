#include "broker/broker_config.h"

#include <charconv>
#include <type_traits>
#include <toml++/toml.h>

#include "common/host_port.h"

namespace rustlog {

namespace {
template <typename T>
Status parse_num(const std::string& name, const std::string& v, T* out, T min, T max) {
  T x{};
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  if (ec != std::errc() || p != v.data() + v.size() || v.empty() || x < min || x > max)
    return Status(ErrorCode::kInvalidConfig, "bad value '" + v + "' for " + name + ": expected a number in " +
                                                  std::to_string(min) + ".." + std::to_string(max));
  *out = x;
  return Status::ok();
}

// A default as --help shows it: integers as they are, ratios shortest ("0.5").
template <typename T>
std::string option_text(T v) {
  if constexpr (std::is_floating_point_v<T>) {
    char buf[32];
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
    return ec == std::errc() ? std::string(buf, p) : std::to_string(v);
  } else {
    return std::to_string(v);
  }
}

#define NUM_OPTION(key, field, lo, hi, helptext)                                   \
  ConfigOption{key, helptext, [](const BrokerConfig& c) { return std::to_string(c.field); }, \
               [](BrokerConfig& c, const std::string& v) {                        \
                 return parse_num<decltype(c.field)>(key, v, &c.field, lo, hi);   \
               }}
#define TOPIC_OPTION(key, tkey, field, helptext)                                              \
  ConfigOption{key, helptext,                                                                 \
               [](const BrokerConfig& c) { return option_text(c.topic_defaults.field); },     \
               [](BrokerConfig& c, const std::string& v) {                                 \
                 /* Checked here, so the message names this option (not the topic key). */ \
                 TopicConfig t = c.topic_defaults;                                         \
                 Status st = t.set(tkey, v);                                               \
                 if (st) st = t.log_config().validate();                                   \
                 if (!st) return Status(ErrorCode::kInvalidConfig, std::string(key) + ": " + st.message()); \
                 c.topic_defaults = t;                                                     \
                 return Status::ok();                                                      \
               }}

std::vector<ConfigOption> make_options() {
  return {
      {"data_dir", "Directory holding all topic data, offsets and checkpoints.",
       [](const BrokerConfig& c) { return c.data_dir; },
       [](BrokerConfig& c, const std::string& v) {
         if (v.empty()) return Status(ErrorCode::kInvalidConfig, "data_dir must not be empty");
         c.data_dir = v;
         return Status::ok();
       }},
      {"listen", "HOST:PORT for the binary protocol (use port 0 for an ephemeral port).",
       [](const BrokerConfig& c) { return c.listen; },
       [](BrokerConfig& c, const std::string& v) {
         std::string h;
         uint16_t p;
         RUSTLOG_RETURN_IF_ERROR(BrokerConfig::split_host_port("listen", v, &h, &p));
         c.listen = v;
         return Status::ok();
       }},
      {"metrics_listen", "HOST:PORT for the HTTP metrics endpoint (/metrics, /health); 'off' disables it.",
       [](const BrokerConfig& c) { return c.metrics_listen; },
       [](BrokerConfig& c, const std::string& v) {
         if (v == "off") {
           c.metrics_listen = v;
           return Status::ok();
         }
         std::string h;
         uint16_t p;
         RUSTLOG_RETURN_IF_ERROR(BrokerConfig::split_host_port("metrics_listen", v, &h, &p));
         c.metrics_listen = v;
         return Status::ok();
       }},
      {"flush",
       "When appends are fdatasync'ed: always (before acknowledging; one fsync per loop turn "
       "covers all requests of the turn), interval:<ms>, or never.",
       [](const BrokerConfig& c) { return c.flush.to_string(); },
       [](BrokerConfig& c, const std::string& v) {
         auto p = FlushPolicy::parse(v);
         if (!p) return p.status();
         c.flush = *p;
         c.topic_defaults.flush = *p;
         return Status::ok();
       }},
      NUM_OPTION("max_frame_bytes", max_frame_bytes, 1024u, 256u << 20,
                 "Largest request frame accepted; larger frames are answered with 413 and the "
                 "connection is closed."),
      NUM_OPTION("max_decompressed_batch_bytes", max_decompressed_batch_bytes, uint64_t{1} << 16,
                 uint64_t{1} << 30,
                 "Largest records section a compressed batch (lz4, zstd) may decompress to: a "
                 "ProduceBatch past it is refused with 413 (a zip bomb costs only the attempt), and "
                 "reads, compaction and the fetches decompress no more. Keep it at least "
                 "max_frame_bytes so every batch a fetch can return decodes."),
      NUM_OPTION("max_connections", max_connections, 1u, 1000000u,
                 "Connections above this are accepted and closed at once (counted)."),
      NUM_OPTION("max_partitions", max_partitions, 1u, 100000u,
                 "Most partitions one topic may have: a CreateTopic asking for more is refused (400; "
                 "v0: 12). A topic's partitions are created, and deleted, in steps of --max-turn-us "
                 "(one per loop turn, other clients served between them); a stop finishes the "
                 "create or delete under way first."),
      NUM_OPTION("max_mapped_segments", max_mapped_segments, uint64_t{1}, uint64_t{1} << 20,
                 "Most sealed segments kept memory-mapped at once (least recently read are unmapped)."),
      NUM_OPTION("max_open_segment_files", max_open_segment_files, uint64_t{1}, uint64_t{1} << 24,
                 "Most sealed segments whose .log file stays open: past it the least recently read "
                 "is closed and reopened on its next read, so any number of segments works within "
                 "the descriptor limit (active segments always stay open: 3 descriptors per "
                 "partition). Lowered at start to half the descriptor limit when that is smaller."),
      {"segment_preallocate_bytes",
       "Most bytes of zeros written at once ahead of an active segment's appends, so that an "
       "append's fdatasync overwrites blocks already written instead of also committing a size "
       "change (docs/STORAGE.md, \"Preallocation\"). Each step is the data the segment already "
       "holds, from 64 KiB up to this; never past segment.bytes; cut off when the segment is "
       "sealed and at shutdown. 0 = off (every synced append grows the file). 0 or 4096..1073741824.",
       [](const BrokerConfig& c) { return std::to_string(c.segment_preallocate_bytes); },
       [](BrokerConfig& c, const std::string& v) {
         uint64_t n = 0;
         Status st = parse_num<uint64_t>("segment_preallocate_bytes", v, &n, 0, uint64_t{1} << 30);
         if (st && n != 0 && n < 4096)
           st = Status(ErrorCode::kInvalidConfig,
                       "bad value '" + v + "' for segment_preallocate_bytes: use 0 (off) or 4096..1073741824");
         if (st) c.segment_preallocate_bytes = n;
         return st;
       }},
      NUM_OPTION("checkpoint_interval_ms", checkpoint_interval_ms, uint64_t{100}, uint64_t{86400000},
                 "How often the recovery-point checkpoint is written (also on shutdown)."),
      NUM_OPTION("max_connection_output_bytes", max_connection_output_bytes, uint64_t{1} << 16,
                 uint64_t{1} << 34,
                 "Answer bytes (queued or unsent) after which a connection's requests are not read "
                 "until it catches up; a fetch's answer is reserved at its max_bytes before it is built."),
      NUM_OPTION("max_output_bytes", max_output_bytes, uint64_t{1} << 20, uint64_t{1} << 40,
                 "The same over all connections together: past it, no connection takes a new request "
                 "until answers drain (bounds the broker's answer memory)."),
      NUM_OPTION("max_input_bytes", max_input_bytes, uint64_t{1} << 20, uint64_t{1} << 40,
                 "Bytes of incomplete request frames buffered over all connections; past it, "
                 "connections holding a partial frame are not read until it drops."),
      NUM_OPTION("partial_frame_timeout_ms", partial_frame_timeout_ms, uint64_t{100}, uint64_t{86400000},
                 "A connection that holds an incomplete frame this long without completing one is "
                 "closed (slow or stalled senders cannot hold buffers forever)."),
      NUM_OPTION("max_requests_per_turn", max_requests_per_turn, 1u, 1000000u,
                 "Requests one connection may have handled per loop turn before the others get "
                 "their turn (fairness for pipelining clients)."),
      NUM_OPTION("max_turn_us", max_turn_us, 10u, 1000000u,
                 "Microseconds one connection's requests may take per loop turn before the others "
                 "get their turn (a pipelining client is bounded in time, not only in requests: "
                 "each produce costs a write to its log); not applied while its answers wait for "
                 "a flush, which they share per turn. Also the length of one step of a topic "
                 "create or delete (at least one partition's directory, log or rename)."),
      NUM_OPTION("max_turn_write_bytes", max_turn_write_bytes, uint64_t{16} << 10, uint64_t{1} << 40,
                 "Answer bytes the loop sends per turn over all connections (each also at most "
                 "256 KiB per turn); past it, each connection still gets 16 KiB so short answers "
                 "are never held back, and the rest waits for the next turn. Bounds how long "
                 "clients draining large fetches keep the others' requests waiting."),
      NUM_OPTION("max_parked_fetches_per_connection", max_parked_fetches_per_connection, 0u, 1000000u,
                 "FetchEx long polls one connection may have waiting; more are answered at once "
                 "with what there is."),
      NUM_OPTION("max_parked_fetches", max_parked_fetches, 0u, 10000000u,
                 "FetchEx long polls waiting over all connections; more are answered at once."),
      NUM_OPTION("shutdown_timeout_ms", shutdown_timeout_ms, uint64_t{0}, uint64_t{600000},
                 "At SIGTERM: how long to keep delivering ready answers (non-blocking) before "
                 "flushing, checkpointing and exiting regardless of clients that do not read."),
      NUM_OPTION("sync_workers", sync_workers, 0u, 64u,
                 "Threads that issue the fdatasyncs of one group commit concurrently (the loop "
                 "waits for them; 0 = the loop syncs partitions one after another)."),
      TOPIC_OPTION("segment_bytes", "segment.bytes", segment_bytes,
                   "Default segment size for new topics: the active segment rolls past it."),
      TOPIC_OPTION("segment_ms", "segment.ms", segment_ms,
                   "Default: roll the active segment when its first batch is older than this."),
      NUM_OPTION("min_segment_bytes", segment_floors.bytes, uint64_t{1024}, uint64_t{0x7FFFFFFF},
                 "Smallest segment.bytes a new topic may ask for: below it CreateTopic is refused "
                 "(400, naming the key, the value and this floor). Tiny segments roll one per few "
                 "produces, each a file, an index and a directory entry. Topics that exist keep "
                 "theirs; --segment-bytes must be at least this."),
      NUM_OPTION("min_segment_ms", segment_floors.ms, int64_t{1}, int64_t{1} << 50,
                 "Smallest segment.ms (milliseconds) a new topic may ask for: below it CreateTopic "
                 "is refused (400, naming the key, the value and this floor). Topics that exist keep "
                 "theirs; --segment-ms must be at least this."),
      TOPIC_OPTION("index_interval_bytes", "index.interval.bytes", index_interval_bytes,
                   "Default bytes between two sparse index entries."),
      TOPIC_OPTION("retention_ms", "retention.ms", retention_ms,
                   "Default time retention for new topics (-1 = forever)."),
      TOPIC_OPTION("retention_bytes", "retention.bytes", retention_bytes,
                   "Default size retention per partition for new topics (-1 = no limit)."),
      TOPIC_OPTION("min_cleanable_dirty_ratio", "min.cleanable.dirty.ratio", min_cleanable_dirty_ratio,
                   "Default: compact a partition once this share of its sealed bytes is not yet cleaned."),
      TOPIC_OPTION("min_compaction_lag_ms", "min.compaction.lag.ms", min_compaction_lag_ms,
                   "Default: records younger than this (broker time) are never compacted."),
      TOPIC_OPTION("max_compaction_lag_ms", "max.compaction.lag.ms", max_compaction_lag_ms,
                   "Default: compact a partition whose oldest uncleaned record is older than this "
                   "whatever its dirty ratio (-1 = no deadline)."),
      TOPIC_OPTION("delete_retention_ms", "delete.retention.ms", delete_retention_ms,
                   "Default tombstone horizon: a tombstone is dropped this long after the clean that "
                   "first kept it."),
      NUM_OPTION("retention_check_interval_ms", retention_check_interval_ms, uint64_t{10}, uint64_t{86400000},
                 "How often every partition is checked against retention.ms and retention.bytes."),
      NUM_OPTION("cleaner_backoff_ms", cleaner_backoff_ms, uint64_t{1}, uint64_t{86400000},
                 "How long the cleaner waits when no partition is cleanable, and before it first "
                 "retries a partition whose clean failed (uncleanable; doubling up to 32x)."),
      NUM_OPTION("cleaner_buffer_bytes", cleaner_buffer_bytes, uint64_t{1024}, uint64_t{1} << 40,
                 "Memory for the cleaner's key map (24-byte slots, filled to 90 %); a smaller map cleans "
                 "a partition in several partial passes."),
      NUM_OPTION("cleaner_step_bytes", cleaner_step_bytes, uint64_t{4096}, uint64_t{1} << 32,
                 "Most bytes one cleaner step reads or writes before it yields to the event loop (at "
                 "least one stored batch): a request that arrives during a step waits for its end."),
      NUM_OPTION("cleaner_busy_share_percent", cleaner_busy_share_percent, uint64_t{1}, uint64_t{100},
                 "Share of the event loop's time the cleaner takes while clients keep the loop busy "
                 "(a request in the last millisecond); an idle loop cleans step after step. 100: "
                 "a step every turn whatever the clients do."),
      NUM_OPTION("cleaner_max_bytes_per_sec", cleaner_max_bytes_per_sec, uint64_t{0}, uint64_t{1} << 40,
                 "Cap on the cleaner's read+write bytes per second (0 = unlimited): after "
                 "a step of B bytes the next waits B / cap seconds."),
      NUM_OPTION("offsets_retention_ms", offsets_retention_ms, int64_t{1}, int64_t{1} << 50,
                 "A consumer group's committed offsets expire this long after its last commit "
                 "(tombstones written to __consumer_offsets on the loop's tick)."),
      NUM_OPTION("offsets_segment_bytes", offsets_segment_bytes, uint64_t{1024}, uint64_t{0x7FFFFFFF},
                 "Segment size of __consumer_offsets, applied when it is created (an existing one "
                 "keeps its own)."),
      {"log_level", "trace, debug, info, warn, error or off.",
       [](const BrokerConfig& c) { return c.log_level; },
       [](BrokerConfig& c, const std::string& v) {
         static const char* kLevels[] = {"trace", "debug", "info", "warn", "error", "off"};
         for (const char* l : kLevels)
           if (v == l) {
             c.log_level = v;
             return Status::ok();
           }
         return Status(ErrorCode::kInvalidConfig,
                       "bad value '" + v + "' for log_level: use trace, debug, info, warn, error or off");
       }},
  };
}
#undef NUM_OPTION
#undef TOPIC_OPTION
}  // namespace

const std::vector<ConfigOption>& config_options() {
  static const std::vector<ConfigOption> opts = make_options();
  return opts;
}

Status BrokerConfig::split_host_port(const std::string& field, const std::string& value,
                                     std::string* host, uint16_t* port) {
  auto hp = parse_host_port(value, {.default_port = std::nullopt, .allow_port_zero = true});
  if (!hp)
    return Status(ErrorCode::kListenFailed, "bad value '" + value + "' for " + field + ": " +
                                                  hp.status().message() +
                                                  " (expected HOST:PORT, e.g. 127.0.0.1:9092 or [::1]:9092)");
  *host = std::move(hp->host);
  *port = hp->port;
  return Status::ok();
}

Status apply_toml_file(BrokerConfig& cfg, const std::string& path) {
  toml::table tbl;
  try {
    tbl = toml::parse_file(path);
  } catch (const toml::parse_error& err) {
    return Status(ErrorCode::kInvalidConfig,
                  "cannot read config file " + path + ": " + std::string(err.description()) + " (line " +
                      std::to_string(err.source().begin.line) + ")");
  }
  for (const auto& [k, node] : tbl) {
    const std::string key(k.str());
    const ConfigOption* opt = nullptr;
    for (const auto& o : config_options())
      if (o.name == key) opt = &o;
    if (!opt) return Status(ErrorCode::kInvalidConfig, "unknown key '" + key + "' in config file " + path +
                                                            " (see kafka-lite --help for the keys)");
    std::string value;
    if (auto s = node.value<std::string>()) value = *s;
    else if (node.is_integer()) value = std::to_string(*node.value<int64_t>());
    else if (node.is_floating_point()) value = option_text(*node.value<double>());  // min_cleanable_dirty_ratio = 0.25
    else if (auto b = node.value<bool>()) value = *b ? "true" : "false";
    else return Status(ErrorCode::kInvalidConfig, "key '" + key + "' in " + path + " must be a string or a number");
    Status st = opt->set(cfg, value);
    if (!st) return Status(st.code(), path + ": " + st.message());  // InvalidConfig or ListenFailed
  }
  return Status::ok();
}

Status validate_config(const BrokerConfig& cfg) {
  auto st = cfg.topic_defaults.log_config().validate();
  if (!st) return Status(ErrorCode::kInvalidConfig, st.message());
  const TopicConfig& d = cfg.topic_defaults;
  const SegmentFloors& f = cfg.segment_floors;
  auto below = [](const char* flag, const std::string& value, const char* floor_flag, const std::string& floor) {
    return Status(ErrorCode::kInvalidConfig,
                  std::string(flag) + " " + value + " is below " + floor_flag + " " + floor +
                      " (the floor new topics must meet): raise " + flag + " or lower " + floor_flag +
                      " (TOML keys with '_')");
  };
  if (d.segment_bytes < f.bytes)
    return below("--segment-bytes", std::to_string(d.segment_bytes), "--min-segment-bytes", std::to_string(f.bytes));
  if (d.segment_ms < f.ms)
    return below("--segment-ms", std::to_string(d.segment_ms), "--min-segment-ms", std::to_string(f.ms));
  if (cfg.max_decompressed_batch_bytes < cfg.max_frame_bytes)
    return Status(ErrorCode::kInvalidConfig,
                  "max_decompressed_batch_bytes " + std::to_string(cfg.max_decompressed_batch_bytes) +
                      " is below max_frame_bytes " + std::to_string(cfg.max_frame_bytes) +
                      ": a batch a producer may send could not be decompressed; raise "
                      "--max-decompressed-batch-bytes");
  return Status::ok();
}

}  // namespace rustlog
