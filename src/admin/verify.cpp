#include "admin/verify.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <map>

#include "storage/atomic_file.h"
#include "storage/cleaner_checkpoint.h"
#include "storage/file.h"
#include "storage/recovery_checkpoint.h"
#include "storage/segment.h"
#include "topics/data_dir.h"
#include "topics/topic_metadata.h"

namespace rustlog::admin {
namespace {

namespace fs = std::filesystem;

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// `<20 digits><ext>` -> base offset.
std::optional<uint64_t> parse_segment_file(const std::string& name, std::string_view ext) {
  if (!ends_with(name, ext) || name.size() != 20 + ext.size()) return std::nullopt;
  return Segment::parse_log_file_name(name.substr(0, 20) + ".log");
}

// What verify needs from the broker's topic metadata (topics.json and
// topics.log, read by the broker's own reader: topics/topic_metadata.h).
struct TopicMetadata {
  bool present = false;
  struct Topic {
    uint32_t partitions = 0;
    std::optional<uint32_t> index_interval_bytes;
  };
  std::map<std::string, Topic> topics;

  // The topic owning partition directory `dir_name` (<topic>-<partition>).
  const Topic* owner(const std::string& dir_name) const {
    auto p = parse_partition_dir_name(dir_name);
    if (!p) return nullptr;
    auto it = topics.find(p->topic);
    if (it == topics.end() || p->partition >= it->second.partitions) return nullptr;
    return &it->second;
  }
};

Result<TopicMetadata> read_topics(const std::string& data_dir) {
  auto read = read_topic_metadata(data_dir);
  if (!read) return Status(ErrorCode::kCorruptRecord, read.status().message());
  TopicMetadata m;
  m.present = read->present;
  for (const auto& [name, c] : read->topics) m.topics[name] = {c.partitions, c.index_interval_bytes};
  return m;
}

struct DirListing {
  std::vector<uint64_t> bases;  // sorted .log base offsets
  std::vector<std::string> temp_files;
  std::vector<std::string> orphan_indexes;
  std::vector<std::string> swap_files;  // .cleaned / .swap: an interrupted compaction swap
};

DirListing list_partition(const fs::path& dir) {
  DirListing l;
  std::vector<std::pair<uint64_t, std::string>> indexes;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (auto b = Segment::parse_log_file_name(name)) {
      l.bases.push_back(*b);
    } else if (ends_with(name, kTempSuffix)) {
      l.temp_files.push_back(name);
    } else if (ends_with(name, ".cleaned") || ends_with(name, ".swap")) {
      l.swap_files.push_back(name);
    } else if (auto i = parse_segment_file(name, ".index")) {
      indexes.emplace_back(*i, name);
    } else if (auto t = parse_segment_file(name, ".timeindex")) {
      indexes.emplace_back(*t, name);
    }
  }
  std::sort(l.bases.begin(), l.bases.end());
  std::sort(l.temp_files.begin(), l.temp_files.end());
  std::sort(indexes.begin(), indexes.end());
  for (const auto& [base, name] : indexes)
    if (!std::binary_search(l.bases.begin(), l.bases.end(), base)) l.orphan_indexes.push_back(name);
  return l;
}

// Segment::verify cannot tell a missing index file from one that differs;
// say "missing" when that is what it is.
void name_missing_index(const std::string& index_path, std::string& problem) {
  if (problem.rfind(index_path + ":", 0) == 0 && !path_exists(index_path))
    problem = index_path + ": missing (recovery would rebuild it from the log)";
}

SegmentSummary verify_segment(const std::string& dir, uint64_t base, uint32_t index_interval) {
  SegmentSummary s;
  s.log_file = dir + "/" + Segment::file_name(base, ".log");
  s.base_offset = base;
  s.next_offset = base;
  SegmentScanReport open_report;
  auto seg = Segment::open(dir, base, index_interval, /*cache=*/nullptr, &open_report,
                           /*writable=*/false);
  if (!seg) {
    s.problems.push_back(s.log_file + ": cannot open: " + seg.status().message());
    return s;
  }
  SegmentScanReport report;
  Status st = (*seg)->verify(&report, &s.batches, &s.records);
  s.bytes = (*seg)->size_bytes();
  s.next_offset = (*seg)->next_offset();
  if (!st) s.problems.push_back(s.log_file + ": verification failed: " + st.message());
  // open() only reads headers after the last index entry; the full scan in
  // verify() reports the same damage more precisely, so its lines win.
  const auto& found = report.corruptions.empty() ? open_report.corruptions : report.corruptions;
  for (std::string p : found) {
    name_missing_index((*seg)->index_path(), p);
    name_missing_index((*seg)->time_index_path(), p);
    s.problems.push_back(std::move(p));
  }
  return s;
}

PartitionSummary verify_partition(const fs::path& dir, std::optional<uint64_t> recovery_point,
                                  uint32_t index_interval_bytes) {
  PartitionSummary p;
  p.name = dir.filename().string();
  p.path = dir.string();
  p.recovery_point = recovery_point;
  p.index_interval_bytes = index_interval_bytes;
  const DirListing listing = list_partition(dir);
  for (uint64_t base : listing.bases) {
    SegmentSummary s = verify_segment(p.path, base, index_interval_bytes);
    p.batches += s.batches;
    p.records += s.records;
    p.bytes += s.bytes;
    p.segments.push_back(std::move(s));
  }
  if (!p.segments.empty()) {
    p.first_offset = p.segments.front().base_offset;
    p.next_offset = p.segments.back().next_offset;
  }
  for (size_t i = 0; i + 1 < p.segments.size(); ++i) {
    const SegmentSummary& a = p.segments[i];
    const SegmentSummary& b = p.segments[i + 1];
    if (a.next_offset > b.base_offset)
      p.problems.push_back(a.log_file + ": offsets " + std::to_string(b.base_offset) + ".." +
                           std::to_string(a.next_offset - 1) + " overlap the next segment " +
                           b.log_file);
    if (a.bytes == 0)
      p.warnings.push_back(a.log_file + ": empty segment before the last one");
  }
  if (recovery_point && *recovery_point > p.next_offset)
    p.problems.push_back(p.path + ": the recovery checkpoint says offsets below " +
                         std::to_string(*recovery_point) +
                         " were flushed, but the log ends at offset " +
                         std::to_string(p.next_offset));
  for (const auto& t : listing.temp_files)
    p.warnings.push_back(p.path + "/" + t +
                         ": leftover of an interrupted atomic write (recovery deletes it)");
  for (const auto& f : listing.swap_files)
    p.warnings.push_back(p.path + "/" + f +
                         ": leftover of an interrupted compaction swap (the broker finishes or undoes it at start)");
  // The cleaner checkpoint (first dirty offset) of a compacted partition.
  auto cp = read_cleaner_checkpoint(p.path);
  if (!cp)
    p.problems.push_back(cp.status().message());
  else if (cp->has_value() && **cp > p.next_offset)
    p.warnings.push_back(p.path + "/" + kCleanerCheckpointFile + ": first dirty offset " + std::to_string(**cp) +
                         " is past the log end " + std::to_string(p.next_offset) +
                         " (the cleaner starts again from the active segment)");
  for (const auto& o : listing.orphan_indexes)
    p.warnings.push_back(p.path + "/" + o + ": index file without a .log (recovery ignores it)");
  return p;
}

}  // namespace

std::vector<std::string> PartitionSummary::all_problems() const {
  std::vector<std::string> out;
  for (const auto& s : segments) out.insert(out.end(), s.problems.begin(), s.problems.end());
  out.insert(out.end(), problems.begin(), problems.end());
  return out;
}

uint64_t VerifyReport::problem_count() const {
  uint64_t n = 0;
  for (const auto& p : partitions) n += p.all_problems().size();
  return n;
}

bool is_partition_dir(const std::string& dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (Segment::parse_log_file_name(e.path().filename().string())) return true;
  return false;
}

Result<VerifyReport> verify_data_dir(const std::string& path, const VerifyOptions& options) {
  std::error_code ec;
  const fs::path root(path);
  if (!fs::exists(root, ec))
    return Status(ErrorCode::kInvalidRequest, path + ": no such file or directory");
  if (!fs::is_directory(root, ec))
    return Status(ErrorCode::kInvalidRequest,
                  path + ": not a directory (give a data directory or a partition directory; "
                         "use `rustlog dump` for a single segment file)");
  VerifyReport report;
  report.path = path;

  std::vector<fs::path> partitions;
  fs::path checkpoint_dir = root;
  const bool single = is_partition_dir(path);
  if (single) {
    // The checkpoint lives in the data directory above; "x/orders-0/" must
    // still be named orders-0.
    fs::path abs = fs::absolute(root, ec).lexically_normal();
    if (abs.filename().empty()) abs = abs.parent_path();
    partitions.push_back(abs);
    checkpoint_dir = abs.parent_path();
  } else {
    for (const auto& e : fs::directory_iterator(root, ec)) {
      if (!e.is_directory() || !is_partition_dir(e.path().string())) continue;
      if (ends_with(e.path().filename().string(), kDeletedSuffix)) {
        if (auto topic = delete_marker_topic(e.path().string()))
          report.warnings.push_back(e.path().string() + ": a partition of topic '" + *topic +
                                    "', being deleted (the broker finishes the delete at start)");
        else
          report.warnings.push_back(e.path().string() +
                                    ": named like a deleted partition but carries no delete marker: "
                                    "not the broker's, left alone");
        continue;
      }
      partitions.push_back(e.path());
    }
    if (ec)
      return Status(ErrorCode::kStorageError, "cannot list " + path + ": " + ec.message());
    std::sort(partitions.begin(), partitions.end());
  }
  if (partitions.empty() && report.warnings.empty())
    return Status(ErrorCode::kInvalidRequest,
                  path + ": no partition directories found (a partition directory holds "
                         "segment files named <20-digit base offset>.log)");

  RecoveryPoints points;
  auto read = read_recovery_points(checkpoint_dir.string());
  if (read) {
    points = std::move(*read);
  } else {
    report.warnings.push_back(checkpoint_dir.string() + "/" + kRecoveryCheckpointFile + ": " +
                              read.status().message() + " (recovery would rescan every partition)");
  }
  // Temp files of interrupted atomic writes (checkpoint, topics.json).
  std::vector<std::string> temps;
  for (const auto& e : fs::directory_iterator(checkpoint_dir, ec))
    if (e.is_regular_file() && ends_with(e.path().filename().string(), kTempSuffix))
      temps.push_back(e.path().string());
  std::sort(temps.begin(), temps.end());
  for (const auto& t : temps)
    report.warnings.push_back(t + ": leftover of an interrupted atomic write (the broker deletes it at start)");

  TopicMetadata topics;
  if (auto m = read_topics(checkpoint_dir.string()); m) {
    topics = std::move(*m);
  } else {
    report.warnings.push_back(m.status().message() +
                              " (index files are checked with the default index interval)");
  }

  for (const auto& dir : partitions) {
    const std::string name = dir.filename().string();
    std::optional<uint64_t> rp;
    if (auto it = points.find(name); it != points.end()) rp = it->second;
    const TopicMetadata::Topic* topic = topics.owner(name);
    uint32_t interval = LogConfig{}.index_interval_bytes;
    if (options.index_interval_bytes)
      interval = *options.index_interval_bytes;
    else if (topic && topic->index_interval_bytes)
      interval = *topic->index_interval_bytes;
    PartitionSummary p = verify_partition(dir, rp, interval);
    if (topics.present && topic == nullptr)
      p.problems.push_back(p.path + ": not a partition of any topic in " +
                           checkpoint_dir.string() + "/" + kTopicMetadataFile + " and " + kTopicLogFile +
                           " (left in place: the broker refuses to start until it is moved away or "
                           "adopted with kafka-lite --recover-topics)");
    report.partitions.push_back(std::move(p));
  }
  if (!single) {
    for (const auto& entry : points) {
      // Not a structured binding: lambdas capture those only from C++20
      // compilers newer than the fuzz build's clang 14.
      const std::string& name = entry.first;
      const uint64_t off = entry.second;
      const bool known = std::any_of(report.partitions.begin(), report.partitions.end(),
                                     [&](const PartitionSummary& p) { return p.name == name; });
      if (!known)
        report.warnings.push_back(checkpoint_dir.string() + "/" + kRecoveryCheckpointFile +
                                  ": lists " + name + " (offset " + std::to_string(off) +
                                  "), which has no partition directory here");
    }
  }
  return report;
}

}  // namespace rustlog::admin
