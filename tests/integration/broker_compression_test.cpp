// Compressed batches end to end through a real kafka-lite: the client
// Producer (and `rustlog produce --compression`) sends lz4 and zstd batches
// as ProduceBatch, the broker stores them as sent (the segment holds the
// compressed block), and the client Consumer, the legacy v0 Fetch (plain
// values, byte for byte), `rustlog consume` and `rustlog dump` read them
// back as records. Batches that decompress to garbage under a valid CRC, or
// past --max-decompressed-batch-bytes, are refused and nothing is appended.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "client/client.h"
#include "client/consumer.h"
#include "client/producer.h"
#include "common/batch_builder.h"
#include "common/batch_header.h"
#include "common/compression.h"
#include "support/broker_calls.h"
#include "support/broker_process.h"
#include "support/child_process.h"

namespace rustlog::test {
namespace {

using namespace std::chrono_literals;
using namespace protocol;

std::string access_line(int i) {
  static const char* kPaths[] = {"/api/v1/orders", "/api/v1/users/42", "/static/app.js", "/health"};
  return "10.0.0." + std::to_string(i % 250 + 1) + " - - [01/Dec/2026:19:00:" + std::to_string(10 + i % 50) +
         " +0000] \"GET " + kPaths[i % 4] + "?page=" + std::to_string(i % 97) + " HTTP/1.1\" " +
         (i % 13 ? "200 " : "404 ") + std::to_string(512 + i * 7 % 9000) + " \"Mozilla/5.0 (X11; Linux x86_64)\"";
}


class BrokerCompressionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(broker_.start());
    addr_ = "127.0.0.1:" + std::to_string(broker_.port());
  }
  client::Client admin() {
    auto c = client::Client::connect(addr_);
    if (!c) throw std::runtime_error(c.error().to_string());
    return std::move(*c);
  }
  client::Connection raw() {
    auto c = client::Connection::connect("127.0.0.1", broker_.port());
    if (!c) throw std::runtime_error(c.status().to_string());
    return std::move(*c);
  }
  // The bytes a partition stores: its segments' data (the broker's
  // rustlog_partition_size_bytes), without the zeros preallocated ahead of
  // the active segment's appends, which its .log file also holds.
  uint64_t stored_bytes(const std::string& topic) {
    client::Connection c = raw();
    return static_cast<uint64_t>(metric(c, "rustlog_partition_size_bytes", {{"topic", topic}}));
  }
  RunResult rustlog(std::vector<std::string> args, std::string stdin_data = {}) {
    args.insert(args.begin(), bin("rustlog"));
    RunOptions o;
    o.env["RUSTLOG_BROKER"] = addr_;
    o.stdin_data = std::move(stdin_data);
    return run_program(args, o);
  }

  BrokerProcess broker_{{"--metrics-listen", "off", "--flush", "always", "--max-decompressed-batch-bytes", "16777216"}};
  std::string addr_;
};

TEST_F(BrokerCompressionTest, EveryCodecFromTheProducerIsStoredAsSentAndReadBackByEveryConsumer) {
  constexpr int kRecords = 4000;
  std::map<std::string, uint64_t> disk;
  for (const std::string codec : {"none", "lz4", "zstd", "zstd:9"}) {
    SCOPED_TRACE(codec);
    const std::string topic = "logs-" + std::string(codec == "zstd:9" ? "zstd9" : codec);
    ASSERT_TRUE(admin().create_topic(topic, 1));
    client::ProducerOptions o;
    o.compression = *parse_compression(codec);
    o.batch_bytes = 64 * 1024;
    auto p = client::Producer::connect(addr_, o);
    ASSERT_TRUE(p) << p.error().to_string();
    std::vector<client::SendFuture> fs;
    for (int i = 0; i < kRecords; ++i) {
      ProducerRecord r = client::record(access_line(i), i % 3 ? std::optional<std::string>("host-" + std::to_string(i % 7))
                                                              : std::nullopt,
                                        {{"seq", std::to_string(i)}});
      // A run of records with their own timestamps in the middle: its own batches.
      if (i >= 1000 && i < 1200) r.timestamp_us = 1'700'000'000'000'000 + i;
      fs.push_back(p->send(topic, 0, std::move(r)));
    }
    ASSERT_TRUE(p->flush());
    int64_t broker_time = 0;
    for (int i = 0; i < kRecords; ++i) {
      auto md = fs[i].get();
      ASSERT_TRUE(md) << md.error().to_string();
      ASSERT_EQ(md->offset, static_cast<uint64_t>(i));
      if (i >= 1000 && i < 1200) {
        EXPECT_EQ(md->timestamp_us, 1'700'000'000'000'000 + i);
      } else {
        broker_time = md->timestamp_us;
      }
    }
    EXPECT_GT(broker_time, 1'700'000'000'000'000);
    p->close();

    // The client Consumer (FetchEx): every record as sent.
    client::ConsumerOptions co;
    co.auto_offset_reset = client::OffsetReset::kEarliest;
    auto c = client::Consumer::connect(addr_, co);
    ASSERT_TRUE(c);
    ASSERT_TRUE(c->subscribe(topic));
    std::vector<client::ConsumerRecord> got;
    for (int tries = 0; got.size() < kRecords && tries < 200; ++tries) {
      auto batch = c->poll(2000ms);
      ASSERT_TRUE(batch) << batch.error().to_string();
      for (auto& r : *batch) got.push_back(std::move(r));
    }
    ASSERT_EQ(got.size(), static_cast<size_t>(kRecords));
    for (int i = 0; i < kRecords; ++i) {
      ASSERT_EQ(got[i].offset, static_cast<uint64_t>(i));
      ASSERT_EQ(got[i].value, access_line(i));
      EXPECT_EQ(got[i].key.has_value(), i % 3 != 0);
      ASSERT_EQ(got[i].headers.size(), 1u);
      EXPECT_EQ(got[i].headers[0].value, std::to_string(i));
      if (i >= 1000 && i < 1200) {
        EXPECT_EQ(got[i].timestamp_us, 1'700'000'000'000'000 + i);
      }
    }

    // The legacy v0 Fetch: plain values, byte for byte.
    client::Connection conn = raw();
    std::vector<std::string> v0;
    for (uint64_t at = 0; at < kRecords;) {
      auto f = call<FetchResponse>(conn, FetchRequest{"", topic, 0, at, 1 << 20});
      ASSERT_FALSE(f.records.empty());
      for (auto& v : f.records) v0.push_back(std::move(v));
      at = f.next_offset;
    }
    ASSERT_EQ(v0.size(), static_cast<size_t>(kRecords));
    for (int i = 0; i < kRecords; ++i) ASSERT_EQ(v0[i], access_line(i));

    // rustlog consume.
    RunResult rc = rustlog({"consume", topic, "--from-beginning", "--count", std::to_string(kRecords)});
    ASSERT_EQ(rc.exit_code, 0) << rc.err;
    const auto lines = split_lines(rc.out);
    ASSERT_EQ(lines.size(), static_cast<size_t>(kRecords));
    for (int i = 0; i < kRecords; ++i) ASSERT_EQ(lines[i], access_line(i));

    // On disk: the compressed blocks (rustlog dump names the codec).
    const std::string dir = broker_.data_dir() + "/" + topic + "-0";
    disk[codec] = stored_bytes(topic);
    RunResult dump = rustlog({"dump", dir + "/00000000000000000000.log", "--records"});
    ASSERT_EQ(dump.exit_code, 0) << dump.err;
    if (codec != "none") {
      EXPECT_NE(dump.out.find("compression: " + codec.substr(0, codec.find(':'))), std::string::npos);
      EXPECT_NE(dump.out.find(access_line(kRecords - 1).substr(0, 40)), std::string::npos);  // records decompressed
    } else {
      EXPECT_EQ(dump.out.find("compression: "), std::string::npos);
    }
  }
  // Log lines shrink several times over.
  EXPECT_LT(disk["lz4"] * 2, disk["none"]);
  EXPECT_LT(disk["zstd"] * 3, disk["none"]);
  EXPECT_LE(disk["zstd:9"], disk["zstd"] + disk["zstd"] / 10);
}

TEST_F(BrokerCompressionTest, RustlogProduceCompressesAndRefusesAnUnknownCodec) {
  ASSERT_TRUE(admin().create_topic("cli", 1));
  std::string input;
  for (int i = 0; i < 2000; ++i) input += access_line(i) + "\n";
  RunResult r = rustlog({"produce", "cli", "--compression", "zstd:5"}, input);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string seg = broker_.data_dir() + "/cli-0/00000000000000000000.log";
  EXPECT_LT(stored_bytes("cli") * 3, input.size());
  RunResult dump = rustlog({"dump", seg});
  EXPECT_NE(dump.out.find("compression: zstd"), std::string::npos) << dump.out;
  RunResult rc = rustlog({"consume", "cli", "--from-beginning", "--count", "2000"});
  ASSERT_EQ(rc.exit_code, 0) << rc.err;
  EXPECT_EQ(rc.out, input);
  RunResult bad = rustlog({"produce", "cli", "--compression", "gzip"}, "x\n");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("expected none, lz4"), std::string::npos) << bad.err;
}

TEST_F(BrokerCompressionTest, GarbageUnderAValidCrcAndZipBombsAreRefusedAndNothingIsAppended) {
  ASSERT_TRUE(admin().create_topic("t", 1));
  client::Connection conn = raw();
  (void)call<HandshakeResponse>(conn, HandshakeRequest{"test"});
  auto forge = [](uint32_t count, Codec codec, const std::string& plain) {
    std::string block;
    EXPECT_TRUE(compress_block({codec, 0}, plain, &block).is_ok());
    std::string b(kBatchHeaderSize, '\0');
    b += block;
    BatchHeader h;
    h.last_offset_delta = count - 1;
    h.first_timestamp = h.max_timestamp = -1;
    h.record_count = count;
    h.attributes = static_cast<uint16_t>(codec);
    encode_batch_header(reinterpret_cast<uint8_t*>(b.data()), b.size(), h);
    return b;
  };
  for (Codec codec : {Codec::kLz4, Codec::kZstd}) {
    SCOPED_TRACE(codec_name(codec));
    auto garbage = call_error(conn, ProduceBatchRequest{"t", 0, forge(2, codec, std::string(300, 'x'))});
    EXPECT_EQ(garbage.code, ErrorCode::kInvalidRequest);
    EXPECT_NE(garbage.message.find("produced batch: batch at offsets"), std::string::npos) << garbage.message;
    // 32 MiB of zeros in a few KiB, past the broker's 16 MiB bound.
    auto bomb = call_error(conn, ProduceBatchRequest{"t", 0, forge(1, codec, std::string(32u << 20, '\0'))});
    EXPECT_EQ(bomb.code, ErrorCode::kTooLarge);
    EXPECT_NE(bomb.message.find("more than 16777216 bytes (--max-decompressed-batch-bytes)"), std::string::npos)
        << bomb.message;
    // A flipped bit in the compressed bytes.
    BatchBuilder b(0);
    for (int i = 0; i < 50; ++i) b.add(-1, std::nullopt, access_line(i), {});
    std::string good = b.finish({codec, 0});
    std::string flipped = good;
    flipped[kBatchHeaderSize + 10] ^= 4;
    auto crc = call_error(conn, ProduceBatchRequest{"t", 0, flipped});
    EXPECT_EQ(crc.code, ErrorCode::kInvalidRequest);
    EXPECT_NE(crc.message.find("CRC mismatch"), std::string::npos) << crc.message;
    auto dp = call<DescribePartitionResponse>(conn, DescribePartitionRequest{"t", 0});
    EXPECT_EQ(dp.high_watermark, 0u);
  }
  // The same connection still produces a good batch (broker time), at offset 0.
  BatchBuilder b(0);
  for (int i = 0; i < 50; ++i) b.add(-1, std::nullopt, access_line(i), {});
  auto ok = call<ProduceBatchResponse>(conn, ProduceBatchRequest{"t", 0, b.finish({Codec::kZstd, 0})});
  EXPECT_EQ(ok.base_offset, 0u);
  EXPECT_EQ(ok.record_count, 50u);
  auto fx = call<FetchExResponse>(conn, FetchExRequest{"t", 0, 0, 1 << 20, 0, 0});
  ASSERT_EQ(fx.records.size(), 50u);
  EXPECT_EQ(fx.records[49].value, access_line(49));
  EXPECT_EQ(fx.records[49].timestamp_us, ok.append_time_us);
  // kafka-lite --help names the flag.
  RunResult help = run_program({bin("kafka-lite"), "--help"});
  EXPECT_NE(help.out.find("--max-decompressed-batch-bytes"), std::string::npos);
}

TEST_F(BrokerCompressionTest, ATopicsCompressionTypeDecidesHowBatchesAreStored) {
  client::Client a = admin();
  // Bad values are refused by CreateTopic, naming the accepted ones.
  auto bad = a.create_topic("bad", 1, {{"compression.type", "gzip"}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidRequest);
  EXPECT_NE(bad.error().message().find("producer, none, lz4"), std::string::npos) << bad.error().message();
  ASSERT_TRUE(a.create_topic("fixed-zstd", 1, {{"compression.type", "zstd:6"}}));
  ASSERT_TRUE(a.create_topic("fixed-none", 1, {{"compression.type", "none"}}));
  client::Connection conn = raw();
  auto cfg = call<DescribeTopicConfigResponse>(conn, DescribeTopicConfigRequest{"fixed-zstd"});
  bool found = false;
  for (const auto& e : cfg.configs) found |= e.key == "compression.type" && e.value == "zstd:6";
  EXPECT_TRUE(found);
  // An uncompressing producer (ProduceEx) to a zstd topic, a zstd producer
  // (ProduceBatch) to a none topic, and a v0 Produce to the zstd topic.
  for (const auto& [topic, codec] : {std::pair{"fixed-zstd", "none"}, std::pair{"fixed-none", "zstd"}}) {
    client::ProducerOptions o;
    o.compression = *parse_compression(codec);
    // One batch of 2000, sent by flush(): with the default linger a slow
    // machine sends batches of a record or two, which zstd does not make
    // smaller and the broker therefore stores plain (docs/STORAGE.md).
    o.linger = std::chrono::seconds(60);
    auto p = client::Producer::connect(addr_, o);
    ASSERT_TRUE(p);
    for (int i = 0; i < 2000; ++i) p->send(topic, 0, client::record(access_line(i)));
    ASSERT_TRUE(p->flush());
  }
  std::vector<std::string> v0_values;
  for (int i = 2000; i < 2100; ++i) v0_values.push_back(access_line(i));
  (void)call<ProduceResponse>(conn, ProduceRequest{"fixed-zstd", 0, v0_values});
  RunResult z = rustlog({"dump", broker_.data_dir() + "/fixed-zstd-0/00000000000000000000.log"});
  RunResult n = rustlog({"dump", broker_.data_dir() + "/fixed-none-0/00000000000000000000.log"});
  EXPECT_NE(z.out.find("compression: zstd"), std::string::npos) << z.out;
  EXPECT_EQ(z.out.find("compression: none"), std::string::npos);
  for (const auto& line : split_lines(z.out))
    if (line.rfind("baseOffset:", 0) == 0) {
      EXPECT_NE(line.find("compression: zstd"), std::string::npos) << line;
    }
  EXPECT_EQ(n.out.find("compression: "), std::string::npos) << n.out;
  EXPECT_LT(stored_bytes("fixed-zstd") * 3, stored_bytes("fixed-none"));
  // Both read back as sent.
  RunResult rc = rustlog({"consume", "fixed-zstd", "--from-beginning", "--count", "2100"});
  ASSERT_EQ(rc.exit_code, 0) << rc.err;
  const auto lines = split_lines(rc.out);
  ASSERT_EQ(lines.size(), 2100u);
  for (int i = 0; i < 2100; ++i) ASSERT_EQ(lines[i], access_line(i));
  RunResult rn = rustlog({"consume", "fixed-none", "--from-beginning", "--count", "2000"});
  ASSERT_EQ(split_lines(rn.out).size(), 2000u);
}

}  // namespace
}  // namespace rustlog::test
