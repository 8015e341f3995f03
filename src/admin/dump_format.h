#pragma once
// Text and JSON renderings of a segment dump (one line or one JSON object per
// item, so the command can stream them while the walk goes on).
#include <string>

#include <nlohmann/json.hpp>

#include "admin/dump.h"

namespace rustlog::admin {

// "baseOffset: 0 lastOffset: 2 count: 3 position: 0 size: 131 ..."
std::string format_batch_line(const DumpedBatch& b);
// "| offset: 0 timestamp: ... key: "k" value: null headers: [...]"
std::string format_record_line(const Record& r);
std::string format_problem_line(const DumpProblem& p);
std::string format_summary_line(const DumpSummary& s);

// Keys and values are escaped text (escape_bytes) or JSON null.
nlohmann::json record_to_json(const Record& r);
nlohmann::json batch_to_json(const DumpedBatch& b, bool with_records);
nlohmann::json problem_to_json(const DumpProblem& p);
nlohmann::json summary_to_json(const DumpSummary& s);

}  // namespace rustlog::admin
