// The data directory belongs to the operator first: the broker removes only
// what it created and marked itself, refuses directories that are not its
// own, and never deletes because its metadata disagrees with the disk
// (topics/data_dir.h, docs/OPERATIONS.md "The data directory"). Real
// kafka-lite processes, real directories, real kill -9.
#include <gtest/gtest.h>
#include <sys/statvfs.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "client/client.h"
#include "support/broker_process.h"
#include "support/tmpfs_mount.h"

namespace rustlog::test {
namespace {

namespace fs = std::filesystem;
using client::Client;
using client::record;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void spit(const fs::path& p, const std::string& s) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << s;
}

// Every file and directory below `root` with its size and an FNV-1a hash of
// its bytes; `skip` names top-level entries left out.
std::map<std::string, std::string> tree(const fs::path& root, const std::vector<std::string>& only = {}) {
  std::map<std::string, std::string> out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    const std::string rel = fs::relative(it->path(), root).string();
    const std::string top = rel.substr(0, rel.find('/'));
    if (!only.empty() && std::find(only.begin(), only.end(), top) == only.end()) continue;
    if (it->is_directory()) {
      out[rel] = "dir";
    } else {
      const std::string bytes = slurp(it->path());
      uint64_t h = 1469598103934665603ull;
      for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;
      out[rel] = std::to_string(bytes.size()) + ":" + std::to_string(h);
    }
  }
  return out;
}

void make_foreign(const fs::path& dir) {
  fs::create_directories(dir / "Documents/photos");
  spit(dir / "Documents/photos/a.jpg", "precious");
  spit(dir / "notes.txt", "top");
  fs::create_directories(dir / "backup-2024");
  spit(dir / "backup-2024/dump.sql", std::string(5000, 'x'));
  spit(dir / "photos-2023", "a file whose name looks like a partition");
  spit(dir / "cache.tmp", "an operator's temp-named file");
}
const std::vector<std::string> kForeign = {"Documents", "notes.txt", "backup-2024", "photos-2023", "cache.tmp"};

Client connect(BrokerProcess& b) {
  auto c = Client::connect("127.0.0.1:" + std::to_string(b.port()));
  if (!c) throw std::runtime_error(c.error().to_string());
  return std::move(*c);
}

void produce(Client& c, const std::string& topic, uint32_t partitions, int per_partition, const std::string& tag) {
  for (uint32_t p = 0; p < partitions; ++p) {
    std::vector<client::ProducerRecord> recs;
    for (int i = 0; i < per_partition; ++i)
      recs.push_back(record(tag + "-" + std::to_string(p) + "-" + std::to_string(i), "k" + std::to_string(i)));
    auto r = c.produce(topic, p, std::move(recs));
    ASSERT_TRUE(r) << r.error().to_string();
  }
}

// Every record of every topic, and the committed offsets of every group:
// what a consumer sees of the broker.
std::string full_consume(Client& c) {
  std::ostringstream out;
  auto topics = c.list_topics();
  if (!topics) return "list_topics: " + topics.error().to_string();
  for (const auto& t : *topics) {
    for (uint32_t p = 0; p < t.partitions; ++p) {
      out << t.name << "-" << p << ":";
      uint64_t off = 0;
      for (;;) {
        auto f = c.fetch(t.name, p, off);
        if (!f) return "fetch: " + f.error().to_string();
        for (const auto& r : f->records)
          out << " " << r.offset << "=" << r.key.value_or("<null>") << "/" << r.value.value_or("<null>");
        if (f->records.empty() || f->next_offset >= f->high_watermark) break;
        off = f->next_offset;
      }
      out << "\n";
    }
  }
  auto groups = c.list_groups();
  if (!groups) return "list_groups: " + groups.error().to_string();
  for (const auto& g : *groups) {
    auto d = c.describe_group(g);
    if (!d) return "describe_group: " + d.error().to_string();
    for (const auto& o : *d) out << "group " << g << " " << o.topic << "-" << o.partition << "=" << o.committed << "\n";
  }
  return out.str();
}

bool has_entry_like(const fs::path& dir, const std::string& part) {
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().find(part) != std::string::npos) return true;
  return false;
}

// Starts the broker with RUSTLOG_CRASH_POINT=point (common/crash_point.h):
// it kills itself with SIGKILL when it reaches that step.
::testing::AssertionResult start_armed(BrokerProcess& b, const char* point) {
  ::setenv("RUSTLOG_CRASH_POINT", point, 1);
  auto started = b.start();
  ::unsetenv("RUSTLOG_CRASH_POINT");
  return started;
}

uint64_t free_bytes(const fs::path& dir) {
  struct statvfs s {};
  if (::statvfs(dir.c_str(), &s) != 0) return 0;
  return static_cast<uint64_t>(s.f_bavail) * s.f_frsize;
}

class DataDirTest : public ::testing::Test {
 protected:
  // A data dir with two topics, records in every partition and a group's
  // commits; `older` receives topics.json as it was before topic b existed.
  void populate(BrokerProcess& b, std::string* older = nullptr) {
    ASSERT_TRUE(b.start());
    Client c = connect(b);
    ASSERT_TRUE(c.create_topic("a", 2));
    produce(c, "a", 2, 20, "a");
    ASSERT_TRUE(c.commit_offset("g", "a", 1, 7));
    if (older) *older = slurp(fs::path(b.data_dir()) / "topics.json");
    ASSERT_TRUE(c.create_topic("b", 3));
    produce(c, "b", 3, 15, "b");
    ASSERT_TRUE(c.commit_offset("g", "b", 2, 11));
    c.close();
    ASSERT_EQ(b.stop(), 0);
  }

  std::string consume_all(BrokerProcess& b) {
    Client c = connect(b);
    return full_consume(c);
  }
};

TEST_F(DataDirTest, AForeignDirectoryIsRefusedAndLeftUntouched) {
  BrokerProcess b({"--metrics-listen", "off"});
  const fs::path home = b.data_dir();
  make_foreign(home);
  const auto before = tree(home);
  EXPECT_FALSE(b.start());
  EXPECT_EQ(b.exit_code(), 1);
  const std::string log = slurp(b.log_path());
  EXPECT_NE(log.find("is not empty and holds no RustLog data"), std::string::npos) << log;
  EXPECT_NE(log.find("--init-data-dir"), std::string::npos) << log;
  EXPECT_NE(log.find("Documents/"), std::string::npos) << log;
  EXPECT_EQ(tree(home), before);  // not even a lock file was written
}

TEST_F(DataDirTest, InitDataDirUsesADirectoryWithForeignContentAndNeverTouchesIt) {
  BrokerProcess b({"--init-data-dir"});
  const fs::path home = b.data_dir();
  make_foreign(home);
  const auto before = tree(home, kForeign);
  ASSERT_TRUE(b.start());
  {
    Client c = connect(b);
    ASSERT_TRUE(c.create_topic("photos", 1));  // photos-0 beside the file photos-2023
    produce(c, "photos", 1, 10, "p");
    ASSERT_TRUE(c.create_topic("gone", 2));
    produce(c, "gone", 2, 5, "g");
    ASSERT_TRUE(c.delete_topic("gone"));
  }
  ASSERT_EQ(b.stop(), 0);
  EXPECT_EQ(tree(home, kForeign), before);
  b.set_args({});  // the directory is the broker's now: no flag needed
  ASSERT_TRUE(b.start());
  EXPECT_NE(consume_all(b).find("photos-0: 0=k0/p-0-0"), std::string::npos);
  b.kill9();
  ASSERT_TRUE(b.start());
  ASSERT_EQ(b.stop(), 0);
  EXPECT_EQ(tree(home, kForeign), before);
  EXPECT_NE(slurp(b.log_path()).find("data dir entry Documents/ is not the broker's; left alone"), std::string::npos);
}

TEST_F(DataDirTest, LostFoundAtTheRootOfARealFilesystemSurvivesEverything) {
  BrokerProcess b;
  const fs::path mnt = fs::path(b.log_path()).parent_path() / "fs";
  TmpfsMount fsys(mnt, "64m");
  if (!fsys.mounted()) GTEST_SKIP() << "cannot mount a tmpfs: " << fsys.error();
  fs::create_directories(mnt / "lost+found/#1234");
  spit(mnt / "lost+found/#1234/fragment", "recovered by fsck");
  const auto before = tree(mnt, {"lost+found"});
  b.set_data_dir(mnt.string());
  ASSERT_TRUE(b.start());  // lost+found alone is a fresh filesystem
  {
    Client c = connect(b);
    ASSERT_TRUE(c.create_topic("t", 2));
    produce(c, "t", 2, 10, "t");
  }
  b.kill9();
  ASSERT_TRUE(b.start());
  {
    Client c = connect(b);
    ASSERT_TRUE(c.delete_topic("t"));
  }
  ASSERT_EQ(b.stop(), 0);
  ASSERT_TRUE(b.start());
  ASSERT_EQ(b.stop(), 0);
  EXPECT_EQ(tree(mnt, {"lost+found"}), before);
}

TEST_F(DataDirTest, TopicDeleteKilledAtEachStepIsFinishedAtRestart) {
  for (const char* point : {"topic-delete:marked", "topic-delete:renamed", "topic-delete:emptied",
                            "topic-delete:committed"}) {
    SCOPED_TRACE(point);
    BrokerProcess b({"--metrics-listen", "off"});
    ASSERT_TRUE(b.start());
    {
      Client c = connect(b);
      ASSERT_TRUE(c.create_topic("keep", 1));
      produce(c, "keep", 1, 10, "keep");
      ASSERT_TRUE(c.create_topic("doomed", 3));
      produce(c, "doomed", 3, 10, "d");
    }
    const fs::path home = b.data_dir();
    fs::create_directories(home / "operator-notes");
    spit(home / "operator-notes/readme", "mine");
    ASSERT_EQ(b.stop(), 0);
    ASSERT_TRUE(start_armed(b, point));
    {
      Client c = connect(b);
      EXPECT_FALSE(c.delete_topic("doomed"));  // the broker dies mid-delete
    }
    EXPECT_EQ(b.wait_exit(), 128 + SIGKILL);
    ASSERT_TRUE(b.start());
    const std::string all = consume_all(b);
    EXPECT_EQ(all.find("doomed"), std::string::npos) << all;
    EXPECT_NE(all.find("keep-0: 0=k0/keep-0-0"), std::string::npos) << all;
    EXPECT_FALSE(has_entry_like(home, "doomed")) << "a partition directory of the deleted topic is left";
    EXPECT_FALSE(has_entry_like(home, ".deleted"));
    EXPECT_EQ(slurp(home / "operator-notes/readme"), "mine");
    {
      Client c = connect(b);  // the name can be used again
      ASSERT_TRUE(c.create_topic("doomed", 1));
      produce(c, "doomed", 1, 3, "again");
    }
    ASSERT_TRUE(b.restart());
    EXPECT_NE(consume_all(b).find("doomed-0: 0=k0/again-0-0 1=k1/again-0-1 2=k2/again-0-2\n"), std::string::npos);
  }
}

TEST_F(DataDirTest, TopicCreateKilledAtEachStepIsAllOrNothing) {
  for (const char* point : {"topic-create:marked", "topic-create:opened", "topic-create:committed"}) {
    SCOPED_TRACE(point);
    BrokerProcess b({"--metrics-listen", "off"});
    ASSERT_TRUE(b.start());
    ASSERT_EQ(b.stop(), 0);
    ASSERT_TRUE(start_armed(b, point));
    {
      Client c = connect(b);
      EXPECT_FALSE(c.create_topic("fresh", 2));
    }
    EXPECT_EQ(b.wait_exit(), 128 + SIGKILL);
    ASSERT_TRUE(b.start());  // never refused for its own half-made directories
    Client c = connect(b);
    auto n = c.partition_count("fresh");
    const bool committed = std::string(point) == "topic-create:committed";
    EXPECT_EQ(n.ok(), committed);
    EXPECT_EQ(has_entry_like(b.data_dir(), "fresh-"), committed);
    if (!committed) {
      ASSERT_TRUE(c.create_topic("fresh", 2));
    }
    produce(c, "fresh", 2, 2, "f");
    EXPECT_FALSE(fs::exists(fs::path(b.data_dir()) / "fresh-0/CREATING"));
  }
}

TEST_F(DataDirTest, AStrayPartitionDirectoryIsReportedRefusedAndAdoptedOnRequest) {
  BrokerProcess b({"--metrics-listen", "off"});
  ASSERT_TRUE(b.start());
  {
    Client c = connect(b);
    ASSERT_TRUE(c.create_topic("src", 1));
    produce(c, "src", 1, 12, "s");
  }
  ASSERT_EQ(b.stop(), 0);
  const fs::path home = b.data_dir();
  fs::copy(home / "src-0", home / "orders-0", fs::copy_options::recursive);
  const auto before = tree(home);
  EXPECT_FALSE(b.start());
  EXPECT_EQ(b.exit_code(), 1);
  const std::string log = slurp(b.log_path());
  EXPECT_NE(log.find("partition directories orders-0"), std::string::npos) << log;
  EXPECT_NE(log.find("--recover-topics"), std::string::npos) << log;
  EXPECT_EQ(tree(home), before);

  // rustlog verify names it, changes nothing, and exits non-zero.
  const std::string out = fs::path(b.log_path()).parent_path() / "verify.out";
  const std::string cmd = std::string(RUSTLOG_BIN_DIR) + "/rustlog verify " + home.string() + " > " + out + " 2>&1";
  EXPECT_NE(std::system(cmd.c_str()), 0);
  EXPECT_NE(slurp(out).find("orders-0"), std::string::npos) << slurp(out);
  EXPECT_NE(slurp(out).find("not a partition of any topic"), std::string::npos) << slurp(out);
  EXPECT_EQ(tree(home), before);

  b.set_args({"--metrics-listen", "off", "--recover-topics"});
  ASSERT_TRUE(b.start());
  const std::string all = consume_all(b);
  EXPECT_NE(all.find("orders-0: 0=k0/s-0-0"), std::string::npos) << all;
  EXPECT_NE(all.find("orders-0: 0=k0/s-0-0 1=k1/s-0-1"), std::string::npos) << all;
  b.set_args({"--metrics-listen", "off"});
  ASSERT_TRUE(b.restart());  // adopted for good
}

TEST_F(DataDirTest, LostOrWrongTopicMetadataNeverDeletesAndRecoverBringsEverythingBack) {
  BrokerProcess origin({"--metrics-listen", "off"});
  std::string older;
  populate(origin, &older);
  ASSERT_TRUE(origin.start());
  const std::string expected = consume_all(origin);
  ASSERT_EQ(origin.stop(), 0);
  ASSERT_NE(expected.find("b-2: 0=k0/b-2-0"), std::string::npos) << expected;
  ASSERT_NE(expected.find("group g b-2=11"), std::string::npos) << expected;

  nlohmann::json current = nlohmann::json::parse(slurp(fs::path(origin.data_dir()) / "topics.json"));
  auto with_partitions = [&](uint32_t n) {
    nlohmann::json j = current;
    j["topics"]["b"]["partitions"] = n;
    return j.dump(2);
  };
  const std::map<std::string, std::optional<std::string>> variants = {
      {"deleted", std::nullopt},
      {"older copy", older},
      {"fewer partitions", with_partitions(1)},
      {"zero partitions", with_partitions(0)},
  };
  for (const auto& [name, meta] : variants) {
    SCOPED_TRACE(name);
    BrokerProcess b({"--metrics-listen", "off"});
    fs::copy(origin.data_dir(), b.data_dir(), fs::copy_options::recursive);
    const fs::path home = b.data_dir();
    if (meta) spit(home / "topics.json", *meta);
    else fs::remove(home / "topics.json");
    const auto before = tree(home);
    EXPECT_FALSE(b.start());
    EXPECT_EQ(b.exit_code(), 1);
    EXPECT_NE(slurp(b.log_path()).find("--recover-topics"), std::string::npos) << slurp(b.log_path());
    EXPECT_EQ(tree(home), before) << "a refused start changed the data dir";
    b.set_args({"--metrics-listen", "off", "--recover-topics"});
    ASSERT_TRUE(b.start());
    EXPECT_EQ(consume_all(b), expected);
    b.set_args({"--metrics-listen", "off"});
    ASSERT_TRUE(b.restart());
    EXPECT_EQ(consume_all(b), expected);
  }
}

TEST_F(DataDirTest, TheLongestTopicNameIsDeletedCompletelyWhileRunning) {
  BrokerProcess b({"--metrics-listen", "off"});
  ASSERT_TRUE(b.start());
  const std::string name(249, 'n');
  Client c = connect(b);
  ASSERT_TRUE(c.create_topic(name, 3));
  produce(c, name, 3, 10, "x");
  ASSERT_TRUE(c.delete_topic(name));
  for (const auto& e : fs::directory_iterator(b.data_dir())) {
    const std::string n = e.path().filename().string();
    EXPECT_EQ(n.find("nnnn"), std::string::npos) << n;
    EXPECT_EQ(n.find(".deleted"), std::string::npos) << n;
  }
  ASSERT_TRUE(c.create_topic(name, 1));
  ASSERT_TRUE(c.delete_topic(name));
}

TEST_F(DataDirTest, ATopicCanBeDeletedOnAFullDiskAndFreesItsSpace) {
  BrokerProcess b({"--metrics-listen", "off"});
  const fs::path mnt = fs::path(b.log_path()).parent_path() / "full";
  TmpfsMount fsys(mnt, "8m");
  if (!fsys.mounted()) GTEST_SKIP() << "cannot mount a tmpfs: " << fsys.error();
  b.set_data_dir(mnt.string());
  ASSERT_TRUE(b.start());
  Client c = connect(b);
  ASSERT_TRUE(c.create_topic("filler", 1, {{"segment.bytes", "1048576"}}));
  ASSERT_TRUE(c.produce("filler", 0, {record("first")}));
  ASSERT_TRUE(c.commit_offset("g", "filler", 0, 1));  // the delete also tombstones this commit
  bool full = false;
  for (int i = 0; i < 200 && !full; ++i) {
    auto r = c.produce("filler", 0, {record(std::string(128 * 1024, 'f'))});
    if (!r) {
      EXPECT_EQ(r.error().code(), ErrorCode::kInsufficientSpace) << r.error().to_string();
      full = true;
    }
  }
  ASSERT_TRUE(full) << "the 8 MiB filesystem never filled";
  const uint64_t free_before = free_bytes(mnt);
  auto del = c.delete_topic("filler");
  ASSERT_TRUE(del) << del.error().to_string();
  EXPECT_GT(free_bytes(mnt), free_before + 4 * 1024 * 1024);
  EXPECT_FALSE(has_entry_like(mnt, "filler"));
  auto groups = c.list_groups();
  ASSERT_TRUE(groups);
  EXPECT_TRUE(groups->empty()) << "the deleted topic's commit is still there";
  ASSERT_TRUE(c.create_topic("after", 1));
  auto r = c.produce("after", 0, {record("hello")});
  ASSERT_TRUE(r) << r.error().to_string();
  c.close();
  ASSERT_TRUE(b.restart());
  EXPECT_NE(consume_all(b).find("after-0: 0=<null>/hello"), std::string::npos);
}

}  // namespace
}  // namespace rustlog::test
