// The installed package: `cmake --install` of this build into a temporary
// prefix, then tests/package (an outside project that only uses
// find_package(rustlog) and rustlog::client) is configured, built and run
// against a test broker.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "support/broker_process.h"
#include "support/child_process.h"

namespace rustlog::test {
namespace {

namespace fs = std::filesystem;

TEST(PackageInstallTest, OutsideProjectBuildsAgainstTheInstalledPackage) {
  const std::string cmake = cmake_cache_value("CMAKE_COMMAND");
  const std::string src = source_dir();
  ASSERT_FALSE(cmake.empty());
  ASSERT_TRUE(fs::exists(src + "/tests/package/CMakeLists.txt")) << src;

  std::string tmpl = (fs::temp_directory_path() / "rustlog-package-XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  const std::string root = tmpl, prefix = root + "/prefix", build = root + "/build";
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{root};

  RunResult inst = run_program({cmake, "--install", RUSTLOG_BIN_DIR, "--prefix", prefix});
  ASSERT_EQ(inst.exit_code, 0) << inst.out << inst.err;
  EXPECT_TRUE(fs::exists(prefix + "/include/rustlog/client/client.h"));
  EXPECT_TRUE(fs::exists(prefix + "/include/rustlog/client/consumer.h"));
  EXPECT_TRUE(fs::exists(prefix + "/include/rustlog/protocol/messages.h"));
  EXPECT_TRUE(fs::exists(prefix + "/bin/rustlog"));
  EXPECT_TRUE(fs::exists(prefix + "/bin/kafka-lite"));
  bool config = false;
  for (const auto& e : fs::recursive_directory_iterator(prefix))
    config |= e.path().filename() == "rustlogConfig.cmake";
  EXPECT_TRUE(config);
  // The client package holds common + protocol + client only: no storage
  // header and no storage (or other engine) library.
  for (const auto& e : fs::recursive_directory_iterator(prefix)) {
    const std::string name = e.path().filename().string();
    EXPECT_NE(e.path().parent_path().filename(), "storage") << e.path();
    EXPECT_EQ(name.find("rustlog_storage"), std::string::npos) << e.path();
    EXPECT_EQ(name.find("rustlog_broker"), std::string::npos) << e.path();
  }
  EXPECT_FALSE(fs::exists(prefix + "/include/rustlog/storage"));

  std::vector<std::string> configure = {cmake, "-S", src + "/tests/package", "-B", build,
                                        "-DCMAKE_PREFIX_PATH=" + prefix};
  if (auto g = cmake_cache_value("CMAKE_GENERATOR"); !g.empty()) configure.push_back("-G" + g);
  if (auto m = cmake_cache_value("CMAKE_MAKE_PROGRAM"); !m.empty()) configure.push_back("-DCMAKE_MAKE_PROGRAM=" + m);
  if (auto cxx = cmake_cache_value("CMAKE_CXX_COMPILER"); !cxx.empty())
    configure.push_back("-DCMAKE_CXX_COMPILER=" + cxx);
  if (auto bt = cmake_cache_value("CMAKE_BUILD_TYPE"); !bt.empty()) configure.push_back("-DCMAKE_BUILD_TYPE=" + bt);
  if (cmake_cache_value("RUSTLOG_SANITIZE") == "ON") {
    // The installed static libraries are instrumented: link the runtime too.
    configure.push_back("-DCMAKE_CXX_FLAGS=-fsanitize=address,undefined");
    configure.push_back("-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined");
  }
  RunResult cfg = run_program(configure);
  ASSERT_EQ(cfg.exit_code, 0) << cfg.out << cfg.err;
  RunResult bld = run_program({cmake, "--build", build});
  ASSERT_EQ(bld.exit_code, 0) << bld.out << bld.err;

  BrokerProcess broker({"--metrics-listen", "off"});
  ASSERT_TRUE(broker.start());
  RunResult run = run_program({build + "/rustlog_package_test", "127.0.0.1:" + std::to_string(broker.port())});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("package test OK"), std::string::npos) << run.out;
  // Built with librdkafka, the package offers the Kafka implementation too.
  const bool kafka = fs::exists(prefix + "/" + cmake_cache_value("CMAKE_INSTALL_LIBDIR") + "/cmake/rustlog/rustlogKafkaTargets.cmake");
  EXPECT_EQ(kafka, fs::exists(std::string(RUSTLOG_BIN_DIR) + "/src/librustlog_client_kafka.a"));
  EXPECT_NE(run.out.find(kafka ? "kafka: yes" : "kafka: no"), std::string::npos) << run.out;
}

}  // namespace
}  // namespace rustlog::test
