#include "topics/topic_metadata.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "storage/atomic_file.h"
#include "topics/metadata_log_format.h"

namespace rustlog {

using nlohmann::json;

namespace {

json config_object(const TopicConfig& c) {
  json j = json::object();
  j["partitions"] = c.partitions;
  for (const auto& [k, v] : c.to_pairs()) j[k] = v;
  return j;
}

Result<TopicConfig> config_from_object(const json& j) {
  TopicConfig c;
  if (!j.is_object() || !j.contains("partitions") || !j["partitions"].is_number_unsigned())
    return Status(ErrorCode::kStorageError, "topic metadata entry lacks 'partitions'");
  c.partitions = j["partitions"].get<uint32_t>();
  for (const auto& [k, v] : j.items()) {
    if (k == "partitions") continue;
    if (!v.is_string()) return Status(ErrorCode::kStorageError, "topic metadata: " + k + " is not a string");
    RUSTLOG_RETURN_IF_ERROR(c.set(k, v.get<std::string>()));
  }
  return c;
}

std::string way_out(const std::string& path) {
  return path + " is not valid topic metadata; restore it from a backup, or move topics.json and topics.log "
                "away and start with --recover-topics to rebuild them from the partition directories";
}

Status read_snapshot(const std::string& path, TopicMetadataRead* out) {
  auto text = read_file(path);
  if (!text) return text.status();
  json j = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("topics") || !j["topics"].is_object())
    return Status(ErrorCode::kStorageError, way_out(path));
  if (j.contains("log_generation")) {
    if (!j["log_generation"].is_number_unsigned()) return Status(ErrorCode::kStorageError, way_out(path));
    out->generation = j["log_generation"].get<uint64_t>();
  }
  for (const auto& [name, cj] : j["topics"].items()) {
    auto cfg = config_from_object(cj);
    if (!cfg) return Status(ErrorCode::kStorageError, path + ": topic " + name + ": " + cfg.status().message());
    out->topics[name] = *cfg;
  }
  return Status::ok();
}

Status apply_log(const std::string& path, TopicMetadataRead* out) {
  auto bytes = read_file(path);
  if (!bytes) return bytes.status();
  auto scan = scan_metadata_log(*bytes);
  if (!scan) return Status(ErrorCode::kStorageError, path + ": " + scan.status().message() + "; " + way_out(path));
  out->log_generation = scan->generation;
  if (scan->generation < out->generation) return Status::ok();  // compacted into the snapshot already
  // Newer than the snapshot: an older topics.json was put back beside it.
  // Its records (whole topic entries) still apply; what changed between the
  // two generations is missing, and the start's directory checks say so.
  for (const auto& r : scan->records) {
    if (r.type == MetadataRecord::Type::kDelete) {
      out->topics.erase(r.name);
      continue;
    }
    auto cfg = topic_config_from_json(r.config_json);
    if (!cfg) return Status(ErrorCode::kStorageError, path + ": topic " + r.name + ": " + cfg.status().message());
    out->topics[r.name] = *cfg;
  }
  out->log_current = scan->generation == out->generation;
  out->log_records = scan->records.size();
  out->torn_bytes = scan->torn_bytes;
  return Status::ok();
}

}  // namespace

std::string topic_config_json(const TopicConfig& c) { return config_object(c).dump(); }

Result<TopicConfig> topic_config_from_json(std::string_view json_text) {
  json j = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status(ErrorCode::kStorageError, "topic metadata entry is not JSON");
  return config_from_object(j);
}

Result<TopicMetadataRead> read_topic_metadata(const std::string& data_dir) {
  TopicMetadataRead out;
  const std::string snapshot = data_dir + "/" + kTopicMetadataFile;
  const std::string log = data_dir + "/" + kTopicLogFile;
  out.present = path_exists(snapshot);
  if (out.present) RUSTLOG_RETURN_IF_ERROR(read_snapshot(snapshot, &out));
  if (out.present && path_exists(log)) RUSTLOG_RETURN_IF_ERROR(apply_log(log, &out));
  return out;
}

Status TopicMetadataLog::open(const TopicMetadataRead& read, const TopicConfigs& topics, bool compact_now) {
  generation_ = std::max(read.generation, read.log_generation);
  if (!read.log_current && read.log_generation > read.generation)
    spdlog::warn("{}/{} (generation {}) is newer than {} (generation {}): an older {} was restored; its "
                 "changes are applied to it",
                 data_dir_, kTopicLogFile, read.log_generation, kTopicMetadataFile, read.generation,
                 kTopicMetadataFile);
  if (compact_now || !read.log_current || read.log_records > 0 || read.torn_bytes > 0) {
    if (read.torn_bytes > 0)
      spdlog::warn("{}/{}: dropping a torn tail of {} bytes (a change that was never acknowledged)", data_dir_,
                   kTopicLogFile, read.torn_bytes);
    return compact(topics);
  }
  auto f = File::open(data_dir_ + "/" + kTopicLogFile, O_WRONLY | O_APPEND);
  if (!f) return f.status();
  RUSTLOG_RETURN_IF_ERROR(f->seek_end(&size_));
  file_ = std::move(*f);
  records_ = 0;
  return Status::ok();
}

Status TopicMetadataLog::compact(const TopicConfigs& topics) {
  const uint64_t next = generation_ + 1;
  json j = json::object();
  j["version"] = 1;
  j["log_generation"] = next;
  json t = json::object();
  for (const auto& [name, c] : topics) t[name] = config_object(c);
  j["topics"] = std::move(t);
  file_.close();
  broken_ = true;  // until the new log is open
  RUSTLOG_RETURN_IF_ERROR(write_file_atomic(data_dir_ + "/" + kTopicMetadataFile, j.dump(2) + "\n"));
  generation_ = next;  // the snapshot is durable: the old log is ignored from here on
  const std::string header = encode_metadata_log_header(next);
  const std::string path = data_dir_ + "/" + kTopicLogFile;
  RUSTLOG_RETURN_IF_ERROR(write_file_atomic(path, header));
  auto f = File::open(path, O_WRONLY | O_APPEND);
  if (!f) return f.status();
  file_ = std::move(*f);
  size_ = header.size();
  records_ = 0;
  broken_ = false;
  return Status::ok();
}

bool TopicMetadataLog::wants_compaction(size_t topics) const {
  if (min_compact_records_ == 0) return true;  // a snapshot on every change (bench: the former cost)
  return broken_ || !file_.is_open() || records_ >= std::max<uint64_t>(min_compact_records_, topics);
}

Status TopicMetadataLog::append(const std::string& record) {
  if (!file_.is_open()) return Status(ErrorCode::kStorageError, data_dir_ + "/" + kTopicLogFile + " is not open");
  Status st = file_.write_all(record);
  if (st) st = file_.datasync();
  if (!st) {
    broken_ = true;
    return st;
  }
  size_ += record.size();
  ++records_;
  return Status::ok();
}

Status TopicMetadataLog::append_set(const std::string& name, const TopicConfig& config) {
  return append(encode_metadata_record({MetadataRecord::Type::kSet, name, topic_config_json(config)}));
}

Status TopicMetadataLog::append_delete(const std::string& name) {
  return append(encode_metadata_record({MetadataRecord::Type::kDelete, name, ""}));
}

}  // namespace rustlog
