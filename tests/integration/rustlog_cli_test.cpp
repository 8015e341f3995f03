// End-to-end tests of the `rustlog` binary's offline tools on real files:
// logs are written with PartitionLog, then `rustlog verify` / `rustlog dump`
// run as a child process (RUSTLOG_BIN_DIR "/rustlog") and their exit status,
// stdout and stderr are checked.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "storage/partition_log.h"
#include "storage/record_batch.h"
#include "storage/recovery_checkpoint.h"
#include "storage/segment.h"

namespace rustlog {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kT0 = 1'700'000'000'000'000;  // µs

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "rustlog_cli_test.XXXXXX").string();
    char* p = ::mkdtemp(tmpl.data());
    EXPECT_NE(p, nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs the built binary with `args`, stdout and stderr captured in files.
CliResult run_cli(const std::vector<std::string>& args) {
  static int counter = 0;
  const std::string base = (fs::temp_directory_path() /
                            ("rustlog_cli_out." + std::to_string(::getpid()) + "." +
                             std::to_string(counter++)))
                               .string();
  const std::string out_path = base + ".out", err_path = base + ".err";
  const std::string bin = std::string(RUSTLOG_BIN_DIR) + "/rustlog";
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(bin.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int o = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (o < 0 || e < 0) ::_exit(127);
    ::dup2(o, 1);
    ::dup2(e, 2);
    ::execv(bin.c_str(), argv.data());
    ::_exit(127);
  }
  CliResult r;
  int status = 0;
  EXPECT_EQ(::waitpid(pid, &status, 0), pid);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(out_path);
  r.err = slurp(err_path);
  ::unlink(out_path.c_str());
  ::unlink(err_path.c_str());
  return r;
}

int count_lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

// What was written to one partition.
struct WrittenLog {
  std::string dir;
  std::vector<Record> records;  // with their assigned offsets
  uint64_t batches = 0;
  uint64_t bytes = 0;
  uint64_t next_offset = 0;
  struct Seg {
    uint64_t base, next;
    std::string log_path, index_path;
  };
  std::vector<Seg> segments;
};

// Writes `batches` batches of 1..3 records into `dir`: 16 KiB segments with
// the default index interval, so several segments with several index entries.
WrittenLog write_log(const std::string& dir, int batches) {
  WrittenLog w;
  w.dir = dir;
  LogConfig cfg;
  cfg.segment_bytes = 16 * 1024;
  auto log = PartitionLog::open(dir, cfg, 0);
  EXPECT_TRUE(log.is_ok()) << log.status().to_string();
  for (int b = 0; b < batches; ++b) {
    BatchBuilder builder;
    std::vector<Record> recs;
    const int n = 1 + b % 3;
    for (int i = 0; i < n; ++i) {
      Record r;
      r.timestamp_us = kT0 + b * 1000 + i;
      const int k = b * 3 + i;
      if (k % 7 != 3) r.key = "key-" + std::to_string(k);       // some null keys
      if (k % 11 == 5) r.value = std::string();                   // some empty values
      else if (k % 13 == 8) r.value = std::nullopt;               // some tombstones
      else if (k % 17 == 2) r.value = std::string("bin\0\xff\n", 6);  // binary bytes
      else r.value = "value-" + std::to_string(k) + "-" + std::string(150, 'x');
      if (k % 5 == 0) r.headers.push_back({"trace", "t-" + std::to_string(k)});
      builder.add(r.timestamp_us, r.key, r.value, r.headers);
      recs.push_back(r);
    }
    std::string bytes = builder.finish();
    auto info = (*log)->append(bytes, kT0 + b * 1000);
    EXPECT_TRUE(info.is_ok()) << info.status().to_string();
    for (size_t i = 0; i < recs.size(); ++i) {
      recs[i].offset = info->base_offset + i;
      w.records.push_back(recs[i]);
    }
    ++w.batches;
  }
  EXPECT_TRUE((*log)->close().is_ok());
  w.bytes = (*log)->size_bytes();
  w.next_offset = (*log)->high_watermark();
  for (const auto& s : (*log)->segments())
    w.segments.push_back({s->base_offset(), s->next_offset(), s->log_path(), s->index_path()});
  return w;
}

// Byte positions of the batches in a .log file (independent of src/admin).
std::vector<std::pair<uint64_t, BatchHeader>> batch_positions(const std::string& log_path) {
  const std::string data = slurp(log_path);
  std::vector<std::pair<uint64_t, BatchHeader>> out;
  size_t pos = 0;
  while (pos < data.size()) {
    BatchHeader h;
    EXPECT_EQ(parse_batch_header(reinterpret_cast<const uint8_t*>(data.data()) + pos,
                                 data.size() - pos, &h),
              BatchError::kOk);
    out.emplace_back(pos, h);
    pos += h.total_size();
  }
  return out;
}

void flip_byte(const std::string& path, uint64_t pos) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(pos));
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x5A);
  f.seekp(static_cast<std::streamoff>(pos));
  f.write(&c, 1);
}

// Every file under `dir` with its contents: to prove a command changed nothing.
std::map<std::string, std::string> snapshot(const std::string& dir) {
  std::map<std::string, std::string> m;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) m[e.path().string()] = slurp(e.path().string());
  return m;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_dir_ = tmp_.path() + "/data";
    orders0_ = write_log(data_dir_ + "/orders-0", 120);
    orders1_ = write_log(data_dir_ + "/orders-1", 5);
    ASSERT_TRUE(write_recovery_points(data_dir_, {{"orders-0", orders0_.next_offset},
                                                  {"orders-1", orders1_.next_offset}})
                    .is_ok());
    ASSERT_GE(orders0_.segments.size(), 3u) << "the test needs several segments";
  }
  TempDir tmp_;
  std::string data_dir_;
  WrittenLog orders0_, orders1_;
};

TEST_F(CliTest, VerifyCleanDataDirExitsZeroWithCorrectSummary) {
  const auto before = snapshot(data_dir_);
  CliResult r = run_cli({"verify", data_dir_, "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j["clean"].get<bool>());
  ASSERT_EQ(j["partitions"].size(), 2u);
  const auto& p = j["partitions"][0];
  EXPECT_EQ(p["name"], "orders-0");
  EXPECT_EQ(p["segment_count"].get<size_t>(), orders0_.segments.size());
  EXPECT_EQ(p["batches"].get<uint64_t>(), orders0_.batches);
  EXPECT_EQ(p["records"].get<uint64_t>(), orders0_.records.size());
  EXPECT_EQ(p["bytes"].get<uint64_t>(), orders0_.bytes);
  EXPECT_EQ(p["first_offset"].get<uint64_t>(), 0u);
  EXPECT_EQ(p["next_offset"].get<uint64_t>(), orders0_.next_offset);
  EXPECT_EQ(p["recovery_point"].get<uint64_t>(), orders0_.next_offset);
  EXPECT_TRUE(p["problems"].empty());
  for (size_t i = 0; i < orders0_.segments.size(); ++i) {
    EXPECT_EQ(p["segments"][i]["base_offset"].get<uint64_t>(), orders0_.segments[i].base);
    EXPECT_EQ(p["segments"][i]["next_offset"].get<uint64_t>(), orders0_.segments[i].next);
  }
  EXPECT_EQ(j["partitions"][1]["records"].get<uint64_t>(), orders1_.records.size());

  CliResult text = run_cli({"verify", data_dir_});
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("partition orders-0"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("partition orders-1"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("00000000000000000000.log"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("no problems found"), std::string::npos) << text.out;
  EXPECT_EQ(snapshot(data_dir_), before) << "verify must not change any file";
}

TEST_F(CliTest, VerifyAcceptsASinglePartitionDirectory) {
  CliResult r = run_cli({"verify", orders0_.dir, "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["partitions"].size(), 1u);
  EXPECT_EQ(j["partitions"][0]["name"], "orders-0");
  EXPECT_EQ(j["partitions"][0]["records"].get<uint64_t>(), orders0_.records.size());
  // The checkpoint is found in the data directory above.
  EXPECT_EQ(j["partitions"][0]["recovery_point"].get<uint64_t>(), orders0_.next_offset);
}

TEST_F(CliTest, VerifyFlippedByteInSealedSegmentNamesFileAndOffsets) {
  const auto& seg = orders0_.segments[0];
  const auto batches = batch_positions(seg.log_path);
  ASSERT_GE(batches.size(), 8u);
  const auto& [pos, h] = batches[5];
  flip_byte(seg.log_path, pos + kBatchHeaderSize + 3);  // inside the records: CRC mismatch
  const auto before = snapshot(data_dir_);

  CliResult r = run_cli({"verify", data_dir_});
  EXPECT_EQ(r.exit_code, 1);
  const std::string range =
      "offsets " + std::to_string(h.base_offset) + ".." + std::to_string(batches[6].second.base_offset - 1);
  EXPECT_NE(r.err.find(seg.log_path), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(range), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("CORRUPT"), std::string::npos) << r.out;
  EXPECT_EQ(snapshot(data_dir_), before) << "verify must not repair anything";

  CliResult j = run_cli({"verify", data_dir_, "--json"});
  EXPECT_EQ(j.exit_code, 1);
  auto doc = nlohmann::json::parse(j.out);
  EXPECT_FALSE(doc["clean"].get<bool>());
  EXPECT_FALSE(doc["partitions"][0]["clean"].get<bool>());
  EXPECT_TRUE(doc["partitions"][1]["clean"].get<bool>());
  // The corrupt batch is skipped by resynchronisation: the rest still counts.
  EXPECT_EQ(doc["partitions"][0]["batches"].get<uint64_t>(), orders0_.batches - 1);
  EXPECT_EQ(doc["partitions"][0]["records"].get<uint64_t>(),
            orders0_.records.size() - h.record_count);
}

TEST_F(CliTest, VerifyReportsDeletedIndexAndDoesNotRebuildIt) {
  const std::string index = orders0_.segments[1].index_path;
  ASSERT_TRUE(fs::remove(index));
  CliResult r = run_cli({"verify", data_dir_});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(index + ": missing"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(index)) << "verify must not rebuild the index";
}

TEST_F(CliTest, VerifyReportsCorruptIndexEntry) {
  const std::string index = orders0_.segments[0].index_path;
  ASSERT_GE(fs::file_size(index), 16u);
  flip_byte(index, 15);  // the last byte of the second entry's position
  CliResult r = run_cli({"verify", data_dir_});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(index), std::string::npos) << r.err;
}

TEST_F(CliTest, VerifyReportsTornTailWithoutTruncating) {
  const auto& seg = orders0_.segments.back();
  const uint64_t size = fs::file_size(seg.log_path);
  {
    std::ofstream f(seg.log_path, std::ios::binary | std::ios::app);
    f.write("\0\0\0\0\0\0\0\0\0\0\0\x40garbage", 19);  // a header cut short
  }
  CliResult r = run_cli({"verify", data_dir_});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(seg.log_path), std::string::npos) << r.err;
  EXPECT_EQ(fs::file_size(seg.log_path), size + 19) << "verify must not truncate";
}

TEST_F(CliTest, DumpPrintsEveryRecordOfTheSegment) {
  const auto& seg = orders0_.segments[0];
  CliResult r = run_cli({"dump", seg.log_path, "--records"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  size_t seen = 0;
  bool saw_null_key = false, saw_empty_value = false, saw_null_value = false, saw_binary = false;
  for (const Record& rec : orders0_.records) {
    if (rec.offset < seg.base || rec.offset >= seg.next) continue;
    ++seen;
    const std::string key = rec.key ? "\"" + *rec.key + "\"" : "null";
    std::string value;
    if (!rec.value) value = "null", saw_null_value = true;
    else if (rec.value->empty()) value = "\"\"", saw_empty_value = true;
    else if (rec.value->size() == 6 && (*rec.value)[3] == '\0') value = "\"bin\\x00\\xff\\n\"", saw_binary = true;
    else value = "\"" + *rec.value + "\"";
    saw_null_key |= !rec.key;
    const std::string line = "| offset: " + std::to_string(rec.offset) + " timestamp: " +
                             std::to_string(rec.timestamp_us);
    const size_t at = r.out.find(line + " ");
    ASSERT_NE(at, std::string::npos) << "missing record line for offset " << rec.offset;
    const std::string full = r.out.substr(at, r.out.find('\n', at) - at);
    EXPECT_NE(full.find("key: " + key + " value: " + value), std::string::npos) << full;
    if (!rec.headers.empty()) {
      EXPECT_NE(full.find("headers: [\"trace\": \"" + rec.headers[0].value + "\"]"),
                std::string::npos)
          << full;
    }
  }
  EXPECT_GT(seen, 0u);
  EXPECT_TRUE(saw_null_key && saw_empty_value && saw_null_value && saw_binary)
      << "the data set should exercise null, empty and binary fields";
  const auto batches = batch_positions(seg.log_path);
  for (const auto& [pos, h] : batches)
    EXPECT_NE(r.out.find("baseOffset: " + std::to_string(h.base_offset) + " lastOffset: " +
                         std::to_string(h.last_offset()) + " count: " +
                         std::to_string(h.record_count) + " position: " + std::to_string(pos)),
              std::string::npos);
  EXPECT_NE(r.out.find(std::to_string(batches.size()) + " batches, " + std::to_string(seen) +
                       " records"),
            std::string::npos)
      << r.out;
}

TEST_F(CliTest, DumpJsonParsesAndMatchesTheLog) {
  const auto& seg = orders0_.segments[1];
  CliResult r = run_cli({"dump", seg.log_path, "--records", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  const auto batches = batch_positions(seg.log_path);
  ASSERT_EQ(j["batches"].size(), batches.size());
  std::vector<const Record*> expected;
  for (const Record& rec : orders0_.records)
    if (rec.offset >= seg.base && rec.offset < seg.next) expected.push_back(&rec);
  size_t k = 0;
  for (const auto& b : j["batches"]) {
    EXPECT_TRUE(b["crc_ok"].get<bool>());
    for (const auto& rec : b["records"]) {
      ASSERT_LT(k, expected.size());
      const Record& e = *expected[k++];
      EXPECT_EQ(rec["offset"].get<uint64_t>(), e.offset);
      EXPECT_EQ(rec["timestamp_us"].get<int64_t>(), e.timestamp_us);
      if (e.key) {
        EXPECT_EQ(rec["key"], *e.key);
      } else {
        EXPECT_TRUE(rec["key"].is_null());
      }
      if (!e.value) {
        EXPECT_TRUE(rec["value"].is_null());
      } else if (e.value->empty()) {
        EXPECT_EQ(rec["value"], "");
      }
      EXPECT_EQ(rec["headers"].size(), e.headers.size());
    }
  }
  EXPECT_EQ(k, expected.size());
  EXPECT_EQ(j["summary"]["records"].get<size_t>(), expected.size());
  EXPECT_EQ(j["summary"]["base_offset"].get<uint64_t>(), seg.base);
  EXPECT_TRUE(j["problems"].empty());
}

TEST_F(CliTest, DumpMaxBatchesStopsEarly) {
  CliResult r = run_cli({"dump", orders0_.segments[0].log_path, "--json", "--max-batches", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["batches"].size(), 2u);
  EXPECT_TRUE(j["summary"]["limited"].get<bool>());
  EXPECT_FALSE(j["batches"][0].contains("records"));
}

TEST_F(CliTest, DumpReportsCorruptBatchAndContinues) {
  const auto& seg = orders0_.segments[0];
  const auto batches = batch_positions(seg.log_path);
  flip_byte(seg.log_path, batches[2].first + kBatchHeaderSize + 1);
  CliResult r = run_cli({"dump", seg.log_path});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("crcValid: false"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("CRC mismatch"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("offsets " + std::to_string(batches[2].second.base_offset) + ".." +
                       std::to_string(batches[3].second.base_offset - 1) + " are unreadable"),
            std::string::npos)
      << r.err;
  // Later batches are still listed.
  EXPECT_NE(r.out.find("baseOffset: " + std::to_string(batches.back().second.base_offset)),
            std::string::npos);
}

TEST(CliErrors, BadInputIsOneLineAndExitOne) {
  TempDir tmp;
  struct Case {
    std::vector<std::string> args;
    std::string expect;
  } cases[] = {
      {{"verify"}, "DATA_DIR is required"},
      {{"verify", tmp.path() + "/nope"}, "no such file or directory"},
      {{"verify", tmp.path()}, "no partition directories"},
      {{"verify", "--bogus", tmp.path()}, "--bogus"},
      {{"frobnicate"}, "frobnicate"},
      {{"dump", tmp.path() + "/00000000000000000000.log"}, "cannot open"},
      {{"dump", tmp.path()}, "not a regular file"},
      {{"dump", "x.log", "--max-batches", "0"}, "at least 1"},
      {{"dump", "x.log", "--max-batches", "many"}, "--max-batches"},
  };
  for (const auto& c : cases) {
    CliResult r = run_cli(c.args);
    EXPECT_EQ(r.exit_code, 1) << c.args[0] << " " << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << r.err;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << r.err;
    EXPECT_EQ(r.err.rfind("rustlog", 0), 0u) << r.err;
  }
}

TEST(CliErrors, HelpShowsDescriptionAndExamples) {
  for (const std::string sub : {"verify", "dump"}) {
    CliResult r = run_cli({sub, "--help"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("Usage: rustlog " + sub), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Examples:\n  rustlog " + sub), std::string::npos) << r.out;
  }
  CliResult root = run_cli({"--help"});
  EXPECT_EQ(root.exit_code, 0);
  EXPECT_NE(root.out.find("verify"), std::string::npos);
  EXPECT_NE(root.out.find("dump"), std::string::npos);
}

}  // namespace
}  // namespace rustlog
