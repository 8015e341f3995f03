// Writes the seed corpora of tests/fuzz/corpus/ (committed; rerun after a
// format change):  build/fuzz/tests/fuzz/fuzz_make_seeds tests/fuzz/corpus
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "metrics/exposition.h"
#include "protocol/codec.h"
#include "storage/record_batch.h"
#include "storage/segment_index.h"

using namespace rustlog;
using namespace rustlog::protocol;

namespace {

std::string g_root;

void put(const std::string& target, const std::string& name, const std::string& bytes) {
  std::filesystem::create_directories(g_root + "/" + target);
  std::ofstream(g_root + "/" + target + "/" + name, std::ios::binary) << bytes;
}

template <typename Variant, size_t... I>
std::vector<Variant> every_alternative(std::index_sequence<I...>) {
  return {Variant(std::in_place_index<I>)...};
}

std::string payload(const Request& r) {
  std::string f;
  if (!encode_request(r, f).is_ok()) return {};
  return f.substr(kFrameHeaderBytes);
}
std::string payload(const Response& r) {
  std::string f;
  if (!encode_response(r, f).is_ok()) return {};
  return f.substr(kFrameHeaderBytes);
}

std::string batch(uint64_t base, int records, bool keys) {
  BatchBuilder b(base);
  for (int i = 0; i < records; ++i) {
    std::optional<std::string> key;
    if (keys) key = "key-" + std::to_string(i);
    std::optional<std::string> value;
    if (i % 3 != 2) value = "value " + std::to_string(base + i) + std::string(static_cast<size_t>(i) * 7, 'x');
    std::vector<RecordHeader> headers;
    if (i % 2) headers.push_back({"h", "v" + std::to_string(i)});
    b.add(1'700'000'000'000'000 + static_cast<int64_t>(i) * 1000, key, value, headers);
  }
  return b.finish();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  g_root = argv[1];

  // Every request and response type, default and with content.
  std::vector<std::string> payloads;
  for (const auto& r : every_alternative<Request>(std::make_index_sequence<std::variant_size_v<Request>>()))
    payloads.push_back(payload(r));
  for (const auto& r : every_alternative<Response>(std::make_index_sequence<std::variant_size_v<Response>>()))
    payloads.push_back(payload(r));
  Record rec{3, 17, "key", std::nullopt, {{"h", "v"}}};
  for (const std::string& p : {
           payload(Request{ProduceRequest{"orders", 0, {"hi", "there"}}}),
           payload(Request{FetchRequest{"g", "orders", 1, 2, 3}}),
           payload(Request{OffsetCommitRequest{"g", "orders", 1, 2}}),
           payload(Request{HandshakeRequest{"v1"}}),
           payload(Request{ProduceExRequest{"orders", 0, -1, {{5, "k", "v", {{"a", "b"}}}, {}}}}),
           payload(Request{FetchExRequest{"orders", 0, 1, 2, 3, 4}}),
           payload(Request{ListOffsetsRequest{"orders", 0, 99}}),
           payload(Request{CreateTopicExRequest{"orders", 2, {{"flush", "1"}, {"segment.ms", "9"}}}}),
           payload(Response{FetchExResponse{9, 1, {rec, rec}, 10}}),
           payload(Response{DescribeTopicResponse{"orders", 1, {{0, 4}}}}),
           payload(Response{DescribeGroupResponse{{{"orders", 0, 1, 2, 1}}}}),
           payload(Response{OffsetFetchResponse{5}}),
           payload(Response{HandshakeResponse{"s", 10, {MessageType::kPing}}}),
       })
    payloads.push_back(p);
  std::string stream;
  for (size_t i = 0; i < payloads.size(); ++i) {
    if (payloads[i].empty()) continue;
    put("messages", "seed-" + std::to_string(i), payloads[i]);
    std::string frame(4, '\0');
    const uint32_t n = static_cast<uint32_t>(payloads[i].size());
    frame[0] = static_cast<char>(n >> 24), frame[1] = static_cast<char>(n >> 16);
    frame[2] = static_cast<char>(n >> 8), frame[3] = static_cast<char>(n);
    if (i % 6 == 0) put("frames", "seed-" + std::to_string(i), std::string("\x10\x07", 2) + stream);
    stream += frame + payloads[i];
  }
  put("frames", "seed-all", std::string("\xff\x3f", 2) + stream);

  // Batches, index files, whole segments.
  std::string segment;
  uint64_t base = 0;
  OffsetIndex oi;
  TimeIndex ti;
  for (int i = 0; i < 6; ++i) {
    const std::string b = batch(base, 1 + i, i % 2 == 0);
    put("batch", "seed-" + std::to_string(i), b);
    oi.add(static_cast<uint32_t>(base), static_cast<uint32_t>(segment.size()));
    ti.add(1'700'000'000'000'000 + i, static_cast<uint32_t>(base));
    segment += b;
    base += static_cast<uint64_t>(1 + i);
  }
  // Compressed batches: the same records, each codec (the targets set the
  // codec bits and the CRC themselves).
  for (int i = 0; i < 6; ++i) {
    const std::string plain = batch(100 * static_cast<uint64_t>(i), 3 + 7 * i, i % 2 == 0);
    std::vector<Record> recs;
    (void)decode_batch(reinterpret_cast<const uint8_t*>(plain.data()), plain.size(), nullptr, &recs);
    for (const auto& [name, codec] : {std::pair{"batch_lz4", Codec::kLz4}, std::pair{"batch_zstd", Codec::kZstd}}) {
      BatchBuilder b(100 * static_cast<uint64_t>(i));
      for (const auto& r : recs) b.add_with_offset(r);
      put(name, "seed-" + std::to_string(i), b.finish({codec, i % 3 == 2 ? 9 : 0}));
    }
  }
  put("index", "seed-offsets", std::string(1, '\0') + oi.serialize());
  put("index", "seed-times", std::string(1, '\1') + ti.serialize());
  put("segment_recovery", "seed-whole", segment);
  put("batch_scanner", "seed-whole", segment);
  put("batch_scanner", "seed-garbage-inside", segment.substr(0, 200) + std::string(37, '\x5a') + segment.substr(200));
  put("segment_recovery", "seed-torn", segment.substr(0, segment.size() - 9));
  std::string flipped = segment;
  flipped[flipped.size() / 2] ^= 0x20;
  put("segment_recovery", "seed-flipped", flipped);

  // Configuration.
  put("toml_config", "seed-full",
      "data_dir = \"/var/lib/rustlog\"\nlisten = \"127.0.0.1:9092\"\nmetrics_listen = \"off\"\n"
      "segment_bytes = 1048576\nsegment_ms = 3600000\nindex_interval_bytes = 4096\nretention_ms = -1\n"
      "retention_bytes = 1073741824\nflush = \"always\"\nlog_level = \"warn\"\n");
  put("toml_config", "seed-bad-key", "no_such_option = 1\n");
  put("toml_config", "seed-table", "[section]\nkey = [1, 2, \"three\"]\n");

  // Prometheus text as the broker writes it.
  std::string text;
  metrics::ExpositionWriter w(text);
  w.family("rustlog_requests_total", "counter", "Requests by type.");
  w.sample("rustlog_requests_total", {{"type", "produce"}}, uint64_t{12});
  w.sample("rustlog_requests_total", {{"type", "fetch \"x\"\\n"}}, uint64_t{3});
  w.family("rustlog_partitions", "gauge", "Partitions.");
  w.sample("rustlog_partitions", {}, int64_t{-1});
  w.sample_text("rustlog_partitions", {{"state", "odd"}}, "+Inf");
  put("prometheus_text", "seed-broker", text);
  put("prometheus_text", "seed-histogram",
      "# HELP d Duration.\n# TYPE d histogram\nd_bucket{le=\"0.5\"} 1\nd_bucket{le=\"+Inf\"} 2\nd_sum 0.75\n"
      "d_count 2\nuntyped_thing 1 1700000000000\n");
  return 0;
}
