// `rustlog verify` and `rustlog dump`: offline, read-only inspection of the
// files a broker writes. The logic is in src/admin; this file parses flags
// and prints.
#include <cstdio>
#include <limits>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "admin/dump.h"
#include "admin/dump_format.h"
#include "admin/verify.h"
#include "admin/verify_format.h"
#include "bin/commands/commands.h"

namespace rustlog::cli {
namespace {

void print_out(const std::string& s) { std::fwrite(s.data(), 1, s.size(), stdout); }
void print_line(const std::string& s) {
  print_out(s);
  std::fputc('\n', stdout);
}
void print_err_line(const std::string& s) { std::fprintf(stderr, "%s\n", s.c_str()); }

// File names and messages may hold bytes that are not UTF-8: never throw on them.
std::string to_json_text(const nlohmann::json& j, int indent = -1) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

struct VerifyArgs {
  std::string path;
  bool json = false;
  uint32_t index_interval_bytes = 0;
  CLI::Option* index_interval_option = nullptr;  // given on the command line?
};

int run_verify(const VerifyArgs& a) {
  admin::VerifyOptions options;
  if (a.index_interval_option->count() > 0) options.index_interval_bytes = a.index_interval_bytes;
  auto report = admin::verify_data_dir(a.path, options);
  if (!report) return fail("verify: " + report.status().message());
  if (a.json)
    print_line(to_json_text(admin::verify_report_to_json(*report), 2));
  else
    print_out(admin::format_verify_report(*report));
  std::fflush(stdout);
  for (const auto& p : report->partitions)
    for (const auto& problem : p.all_problems()) print_err_line("rustlog verify: " + problem);
  return report->clean() ? 0 : 1;
}

struct DumpArgs {
  std::string path;
  bool records = false;
  bool json = false;
  uint64_t max_batches = std::numeric_limits<uint64_t>::max();
};

int run_dump(const DumpArgs& a) {
  admin::DumpOptions options;
  options.records = a.records;
  options.max_batches = a.max_batches;
  std::vector<admin::DumpProblem> problems;
  admin::DumpVisitor v;
  // Batches stream out as the walk finds them; JSON is written by hand
  // around the per-batch objects so that nothing accumulates. The heading
  // waits for the first event so that an unreadable file prints only the error.
  bool started = false;
  bool first_batch = true;
  auto start = [&] {
    if (started) return;
    started = true;
    if (a.json)
      print_out("{\"file\":" + to_json_text(a.path) + ",\"batches\":[");
    else
      print_line("Dumping " + a.path);
  };
  v.on_batch = [&](const admin::DumpedBatch& b) {
    start();
    if (a.json) {
      print_out((first_batch ? "\n" : ",\n") + to_json_text(admin::batch_to_json(b, a.records)));
      first_batch = false;
      return;
    }
    print_line(admin::format_batch_line(b));
    for (const auto& r : b.records) print_line(admin::format_record_line(r));
  };
  v.on_problem = [&](const admin::DumpProblem& p) {
    start();
    if (!a.json) print_line(admin::format_problem_line(p));
    problems.push_back(p);
  };
  auto summary = admin::walk_segment(a.path, options, v);
  if (!summary) return fail("dump: " + summary.status().message());
  start();
  if (a.json) {
    nlohmann::json jp = nlohmann::json::array();
    for (const auto& p : problems) jp.push_back(admin::problem_to_json(p));
    print_line("\n],\"problems\":" + to_json_text(jp) +
               ",\"summary\":" + to_json_text(admin::summary_to_json(*summary)) + "}");
  } else {
    print_line(admin::format_summary_line(*summary));
  }
  std::fflush(stdout);
  for (const auto& p : problems) print_err_line("rustlog dump: " + p.message);
  return problems.empty() ? 0 : 1;
}

}  // namespace

void register_storage_commands(CLI::App& app, Context& ctx) {
  auto verify_args = std::make_shared<VerifyArgs>();
  CLI::App* verify = app.add_subcommand(
      "verify", "Check a data directory offline (CRCs, offsets, indexes) without changing it");
  verify->group("Offline storage tools");
  verify->add_option("DATA_DIR", verify_args->path,
                     "Data directory (holding <topic>-<partition> directories) or one partition "
                     "directory")
      ->required();
  verify->add_flag("--json", verify_args->json, "Print the report as JSON");
  verify_args->index_interval_option =
      verify
          ->add_option("--index-interval-bytes", verify_args->index_interval_bytes,
                       "index.interval.bytes the indexes were written with (default: each "
                       "topic's setting in topics.json, else 4096)")
          ->type_name("BYTES");
  verify->footer(
      "Checks every batch's CRC and offset continuity, compares every .index and .timeindex\n"
      "byte for byte with a rebuild from the log, and checks segment overlaps and the\n"
      "recovery-point checkpoint. Prints a table per partition. Exit status 0 when clean, 1\n"
      "when anything is wrong; each problem also goes to stderr, naming the file and offsets.\n"
      "Stop the broker first for a consistent picture: verify reads files that may be being\n"
      "written. It never repairs anything; starting the broker does (see docs/STORAGE.md).\n"
      "\n"
      "Examples:\n"
      "  rustlog verify /var/lib/rustlog/data\n"
      "  rustlog verify /var/lib/rustlog/data/orders-0 --json");
  verify->callback([&ctx, verify_args] { ctx.exit_code = run_verify(*verify_args); });

  auto dump_args = std::make_shared<DumpArgs>();
  CLI::App* dump =
      app.add_subcommand("dump", "Print the record batches (and records) of one segment file");
  dump->group("Offline storage tools");
  dump->add_option("SEGMENT", dump_args->path, "A segment file: <20-digit base offset>.log")
      ->required();
  dump->add_flag("--records", dump_args->records,
                 "Also print every record: offset, timestamp, key, value, headers (non-printable "
                 "bytes escaped as \\xHH; a missing key or value prints as null, an empty one as "
                 "\"\")");
  dump->add_flag("--json", dump_args->json, "Print JSON: {file, batches[], problems[], summary}");
  dump->add_option("--max-batches", dump_args->max_batches, "Stop after N batches")
      ->type_name("N")
      ->check(CLI::Validator(
          [](std::string& v) {
            return v.find_first_not_of('0') == std::string::npos ? "must be at least 1" : "";
          },
          "", "at least 1"));
  dump->footer(
      "Prints, for every batch: position, base and last offset, record count, size, magic,\n"
      "attributes, stored CRC and whether it matches, first and max timestamp (microseconds\n"
      "since the epoch, and as UTC). With --records, one '|' line per record. A damaged region\n"
      "is reported ('!!' lines, and on stderr) and the dump resumes at the next valid batch.\n"
      "Exit status 0 when every batch is valid, 1 otherwise. The file is opened read-only.\n"
      "\n"
      "Examples:\n"
      "  rustlog dump /var/lib/rustlog/data/orders-0/00000000000000000000.log\n"
      "  rustlog dump /var/lib/rustlog/data/orders-0/00000000000000001200.log --records "
      "--max-batches 10\n"
      "  rustlog dump 00000000000000000000.log --records --json | jq '.batches[].records[].value'");
  dump->callback([&ctx, dump_args] { ctx.exit_code = run_dump(*dump_args); });
}

}  // namespace rustlog::cli
