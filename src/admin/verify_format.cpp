#include "admin/verify_format.h"

#include <algorithm>
#include <filesystem>

namespace rustlog::admin {
namespace {

std::string plural(uint64_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

// Columns padded to their widest cell; the first column left-aligned, the
// numbers right-aligned, the last (status) left-aligned.
std::string render_table(const std::vector<std::vector<std::string>>& rows, const char* indent) {
  std::vector<size_t> width;
  for (const auto& r : rows) {
    width.resize(std::max(width.size(), r.size()));
    for (size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], r[c].size());
  }
  std::string out;
  for (const auto& r : rows) {
    std::string line = indent;
    for (size_t c = 0; c < r.size(); ++c) {
      const std::string pad(width[c] - r[c].size(), ' ');
      const bool left = c == 0 || c + 1 == r.size();
      if (c > 0) line += "  ";
      line += left ? r[c] + (c + 1 == r.size() ? "" : pad) : pad + r[c];
    }
    out += line + "\n";
  }
  return out;
}

std::string offsets_text(uint64_t first, uint64_t next) {
  if (next <= first) return "no offsets (next offset " + std::to_string(next) + ")";
  return "offsets " + std::to_string(first) + ".." + std::to_string(next - 1);
}

}  // namespace

std::string format_verify_report(const VerifyReport& report) {
  std::string out;
  uint64_t segments = 0;
  uint64_t bad_partitions = 0;
  for (const auto& p : report.partitions) {
    segments += p.segments.size();
    const auto problems = p.all_problems();
    if (!problems.empty()) ++bad_partitions;
    out += "partition " + p.name + " (" + p.path + ")\n";
    std::vector<std::vector<std::string>> rows;
    rows.push_back({"SEGMENT", "BASE", "NEXT", "BATCHES", "RECORDS", "BYTES", "STATUS"});
    for (const auto& s : p.segments) {
      rows.push_back({std::filesystem::path(s.log_file).filename().string(),
                      std::to_string(s.base_offset), std::to_string(s.next_offset),
                      std::to_string(s.batches), std::to_string(s.records), std::to_string(s.bytes),
                      s.problems.empty() ? "ok" : "CORRUPT (" + plural(s.problems.size(), "problem") + ")"});
    }
    rows.push_back({"total", std::to_string(p.first_offset), std::to_string(p.next_offset),
                    std::to_string(p.batches), std::to_string(p.records), std::to_string(p.bytes),
                    problems.empty() ? "ok" : plural(problems.size(), "problem")});
    out += render_table(rows, "  ");
    out += "  " + plural(p.segments.size(), "segment") + ", " +
           offsets_text(p.first_offset, p.next_offset) + ", recovery point " +
           (p.recovery_point ? std::to_string(*p.recovery_point) : std::string("not checkpointed")) +
           ", index interval " + std::to_string(p.index_interval_bytes) + " bytes\n";
    for (const auto& w : p.warnings) out += "  warning: " + w + "\n";
    out += "\n";
  }
  for (const auto& w : report.warnings) out += "warning: " + w + "\n";
  out += "verified " + plural(report.partitions.size(), "partition") + ", " +
         plural(segments, "segment") + ": ";
  if (report.clean())
    out += "no problems found\n";
  else
    out += plural(report.problem_count(), "problem") + " in " + std::to_string(bad_partitions) +
           " of " + plural(report.partitions.size(), "partition") + " (listed on stderr)\n";
  return out;
}

nlohmann::json verify_report_to_json(const VerifyReport& report) {
  nlohmann::json parts = nlohmann::json::array();
  for (const auto& p : report.partitions) {
    nlohmann::json segs = nlohmann::json::array();
    for (const auto& s : p.segments)
      segs.push_back({{"file", s.log_file},
                      {"base_offset", s.base_offset},
                      {"next_offset", s.next_offset},
                      {"batches", s.batches},
                      {"records", s.records},
                      {"bytes", s.bytes},
                      {"problems", s.problems}});
    parts.push_back({{"name", p.name},
                     {"path", p.path},
                     {"clean", p.clean()},
                     {"index_interval_bytes", p.index_interval_bytes},
                     {"segment_count", p.segments.size()},
                     {"batches", p.batches},
                     {"records", p.records},
                     {"bytes", p.bytes},
                     {"first_offset", p.first_offset},
                     {"next_offset", p.next_offset},
                     {"recovery_point", p.recovery_point ? nlohmann::json(*p.recovery_point)
                                                         : nlohmann::json(nullptr)},
                     {"problems", p.all_problems()},
                     {"warnings", p.warnings},
                     {"segments", std::move(segs)}});
  }
  return {{"path", report.path},
          {"clean", report.clean()},
          {"problem_count", report.problem_count()},
          {"warnings", report.warnings},
          {"partitions", std::move(parts)}};
}

}  // namespace rustlog::admin
