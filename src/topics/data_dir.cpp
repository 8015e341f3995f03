#include "topics/data_dir.h"

#include <algorithm>
#include <charconv>
#include <filesystem>

#include "storage/atomic_file.h"
#include "storage/recovery_checkpoint.h"
#include "storage/segment.h"
#include "topics/topic_name.h"
#include "topics/topic_registry.h"

namespace rustlog {

namespace fs = std::filesystem;

namespace {

std::optional<uint64_t> parse_decimal(std::string_view s) {
  if (s.empty() || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

bool is_broker_file(const std::string& name) {
  const std::string files[] = {kLockFile, kTopicMetadataFile, kTopicLogFile, kRecoveryCheckpointFile};
  for (const auto& f : files)
    if (name == f || name == f + std::string(kTempSuffix)) return true;
  return false;
}

}  // namespace

std::optional<PartitionDirName> parse_partition_dir_name(std::string_view name) {
  const auto dash = name.rfind('-');
  if (dash == std::string_view::npos || dash == 0) return std::nullopt;
  auto n = parse_decimal(name.substr(dash + 1));
  if (!n || *n > UINT32_MAX) return std::nullopt;
  const std::string_view topic = name.substr(0, dash);
  if (!validate_topic_name(topic)) return std::nullopt;
  return PartitionDirName{std::string(topic), static_cast<uint32_t>(*n)};
}

std::string partition_dir_name(const std::string& topic, uint32_t partition) {
  return topic + "-" + std::to_string(partition);
}

std::string deleted_dir_name(uint64_t id, uint32_t partition) {
  return std::to_string(id) + "-" + std::to_string(partition) + std::string(kDeletedSuffix);
}

std::optional<std::pair<uint64_t, uint32_t>> parse_deleted_dir_name(std::string_view name) {
  if (name.size() <= kDeletedSuffix.size() || !name.ends_with(kDeletedSuffix)) return std::nullopt;
  name.remove_suffix(kDeletedSuffix.size());
  const auto dash = name.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto id = parse_decimal(name.substr(0, dash));
  auto p = parse_decimal(name.substr(dash + 1));
  if (!id || !p || *p > UINT32_MAX) return std::nullopt;
  return std::make_pair(*id, static_cast<uint32_t>(*p));
}

bool holds_segments(const std::string& dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (Segment::parse_log_file_name(e.path().filename().string())) return true;
  return false;
}

std::optional<std::string> delete_marker_topic(const std::string& dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string n = e.path().filename().string();
    if (n.size() > kDeleteMarkerPrefix.size() && n.starts_with(kDeleteMarkerPrefix)) {
      std::string topic = n.substr(kDeleteMarkerPrefix.size());
      if (validate_topic_name(topic)) return topic;
    }
  }
  return std::nullopt;
}

Result<std::vector<DataDirEntry>> list_data_dir(const std::string& dir) {
  std::vector<DataDirEntry> out;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) return Status(ErrorCode::kStorageError, "cannot list data dir " + dir + ": " + ec.message());
  for (const auto& e : it) {
    DataDirEntry d;
    d.name = e.path().filename().string();
    std::error_code tec;
    d.is_directory = e.is_directory(tec) && !e.is_symlink(tec);
    const std::string path = e.path().string();
    if (!d.is_directory) {
      d.kind = is_broker_file(d.name) && e.is_regular_file(tec) ? DataDirEntry::Kind::kBrokerFile
                                                                : DataDirEntry::Kind::kForeign;
    } else if (d.name == "lost+found") {
      d.kind = DataDirEntry::Kind::kLostFound;
    } else if (auto p = parse_partition_dir_name(d.name)) {
      d.kind = DataDirEntry::Kind::kPartition;
      d.partition = *p;
      d.has_segments = holds_segments(path);
      d.creating = fs::exists(path + "/" + kCreatingMarker, tec);
      auto marked = delete_marker_topic(path);
      d.delete_marked = marked && *marked == p->topic;
    } else if (parse_deleted_dir_name(d.name)) {
      if (auto topic = delete_marker_topic(path)) {
        d.kind = DataDirEntry::Kind::kDeleted;
        d.deleted_topic = *topic;
      }
    }
    out.push_back(std::move(d));
  }
  if (ec) return Status(ErrorCode::kStorageError, "cannot list data dir " + dir + ": " + ec.message());
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

std::string name_list(const std::vector<std::string>& names, size_t max_shown) {
  std::string s;
  for (size_t i = 0; i < names.size() && i < max_shown; ++i) s += (i ? ", " : "") + names[i];
  if (names.size() > max_shown) s += " and " + std::to_string(names.size() - max_shown) + " more";
  return s;
}

Status check_data_dir_claim(const std::string& dir, bool init_data_dir, bool recover_topics) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return Status::ok();  // created on open
  if (!fs::is_directory(dir, ec))
    return Status(ErrorCode::kStorageError, "data dir " + dir + " exists and is not a directory");
  auto entries = list_data_dir(dir);
  if (!entries) return entries.status();
  bool has_metadata = false;
  std::vector<std::string> partitions, foreign;
  for (const auto& e : *entries) {
    if (e.kind == DataDirEntry::Kind::kBrokerFile && e.name == kTopicMetadataFile) has_metadata = true;
    if (e.kind == DataDirEntry::Kind::kPartition && e.has_segments) partitions.push_back(e.name + "/");
    if (e.kind == DataDirEntry::Kind::kForeign || e.kind == DataDirEntry::Kind::kDeleted ||
        (e.kind == DataDirEntry::Kind::kPartition && !e.has_segments))
      foreign.push_back(e.name + (e.is_directory ? "/" : ""));
  }
  if (has_metadata) return Status::ok();  // the rest is judged against topics.json on open
  if (!partitions.empty() && !recover_topics)
    return Status(ErrorCode::kStorageError,
                  "data dir " + dir + " has partition directories (" + name_list(partitions) +
                      ") but no " + kTopicMetadataFile +
                      "; nothing was changed. See what is there with 'rustlog verify " + dir +
                      "', then start once with --recover-topics to rebuild the topic list from "
                      "the partition directories");
  if (!foreign.empty() && partitions.empty() && !init_data_dir && !recover_topics)
    return Status(ErrorCode::kStorageError,
                  "data dir " + dir + " is not empty and holds no RustLog data (found: " +
                      name_list(foreign) +
                      "); nothing was changed. Use an empty or new directory, or pass "
                      "--init-data-dir to use this one anyway (its contents are left untouched)");
  return Status::ok();
}

}  // namespace rustlog
