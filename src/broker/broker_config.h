#pragma once
// kafka-lite's configuration: fixed at startup from flags and an optional
// TOML file (--config). Flags override the file. Unknown keys and bad values
// are refused with a message naming them.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "storage/log_config.h"
#include "common/status.h"
#include "topics/topic_config.h"

namespace rustlog {

struct BrokerConfig {
  std::string data_dir = "./data";
  std::string listen = "127.0.0.1:9092";
  std::string metrics_listen = "127.0.0.1:9464";
  FlushPolicy flush;  // default for topics that do not set their own
  uint32_t max_frame_bytes = 10 * 1024 * 1024;
  uint64_t max_decompressed_batch_bytes = 64ull << 20;  // a compressed batch's records, decompressed
  uint32_t max_connections = 10000;
  uint32_t max_partitions = 1000;  // per topic
  TopicConfig topic_defaults;      // segment/retention/index defaults for new topics
  SegmentFloors segment_floors;    // smallest segment.bytes / segment.ms a new topic may ask for
  uint64_t max_mapped_segments = 1024;
  uint64_t max_open_segment_files = 1000;  // sealed segments' .log descriptors kept open
  uint64_t segment_preallocate_bytes = LogConfig::kDefaultPreallocateBytes;  // 0 = off
  uint64_t checkpoint_interval_ms = 60000;
  uint64_t max_connection_output_bytes = 64ull << 20;  // stop reading a client past this
  uint64_t max_output_bytes = 1ull << 30;              // answers queued or unsent, all connections
  uint64_t max_input_bytes = 512ull << 20;             // partial frames buffered, all connections
  uint64_t partial_frame_timeout_ms = 30000;           // close a connection sitting on a partial frame
  uint32_t max_requests_per_turn = 128;                // per connection per loop turn
  uint32_t max_turn_us = 100;                          // request handling per connection per loop turn
  uint64_t max_turn_write_bytes = 64 * 1024;           // answer bytes sent per loop turn, all connections
  uint32_t max_parked_fetches_per_connection = 64;     // long polls waiting, per connection
  uint32_t max_parked_fetches = 10000;                 // long polls waiting, all connections
  uint64_t shutdown_timeout_ms = 5000;                 // at SIGTERM, time given to deliver answers
  uint32_t sync_workers = 3;  // threads that issue concurrent fdatasyncs for group commit
  std::string log_level = "info";
  // Retention and the cleaner (docs/OPERATIONS.md, "Retention and compaction").
  uint64_t retention_check_interval_ms = 300000;
  uint64_t cleaner_backoff_ms = 15000;          // wait when nothing is cleanable (or after a failure)
  uint64_t cleaner_buffer_bytes = 64ull << 20;  // memory for the cleaner's key map
  uint64_t cleaner_step_bytes = 1ull << 20;     // most bytes one cleaner step reads or writes
  uint64_t cleaner_max_bytes_per_sec = 0;       // cleaner I/O cap; 0 = unlimited
  uint64_t cleaner_busy_share_percent = 10;     // the loop's time the cleaner takes while clients keep it busy
  int64_t offsets_retention_ms = 7ll * 24 * 3600 * 1000;  // a group's offsets expire this long after its last commit
  uint64_t offsets_segment_bytes = 100ull << 20;
  // One-shot start-up actions (flags only, not TOML keys): see
  // topics/data_dir.h and docs/OPERATIONS.md, "The data directory".
  bool init_data_dir = false;   // accept a non-empty directory without broker metadata
  bool recover_topics = false;  // rebuild the topic list from the partition directories

  // Host and port of `listen`; 400 naming the field when malformed.
  static Status split_host_port(const std::string& field, const std::string& value,
                                std::string* host, uint16_t* port);
};

// One configurable option: its flag/TOML name, help, and how to set it.
struct ConfigOption {
  std::string name;  // TOML key; the flag is --name with '_' -> '-'
  std::string help;
  std::function<std::string(const BrokerConfig&)> get;
  std::function<Status(BrokerConfig&, const std::string&)> set;
};

const std::vector<ConfigOption>& config_options();

// Applies a TOML document's keys (every key must be a known option).
Status apply_toml_file(BrokerConfig& cfg, const std::string& path);
// Cross-field checks after everything is applied.
Status validate_config(const BrokerConfig& cfg);

}  // namespace rustlog
