// interop_client: the C++ client library driven from the Python suite
// (clients/python/tests/test_interop.py), so records written by one client
// are read by the other and compared byte for byte. Bytes travel as hex in
// JSON, so keys, values and header values may hold any byte; null stays null.
//
//   interop_client produce BROKER TOPIC PARTITION BATCH_TS < records.json
//       records.json: [{"timestamp": -1, "key": "6b"|null, "value": "76"|null,
//                       "headers": [["name", "78"], ...]}, ...]
//       prints {"base_offset": N, "record_count": N, "append_time_us": N}
//   interop_client fetch BROKER TOPIC PARTITION OFFSET
//       prints every record from OFFSET to the high watermark, in the same
//       shape plus "offset"
//   interop_client partition PARTITION_COUNT < keys.json
//       keys.json: ["6b", ...]; prints [client::partition_for_key(key), ...]
// Exit status 1 with the error on stderr on any failure.
#include <cstdio>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "client/client.h"

using namespace rustlog;
using nlohmann::json;

namespace {

std::string from_hex(const std::string& h) {
  if (h.size() % 2 != 0) throw std::runtime_error("odd-length hex string");
  std::string out;
  out.reserve(h.size() / 2);
  for (size_t i = 0; i < h.size(); i += 2) out.push_back(static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16)));
  return out;
}

std::string to_hex(const std::string& b) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : b) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::optional<std::string> nullable_from(const json& j) {
  if (j.is_null()) return std::nullopt;
  return from_hex(j.get<std::string>());
}

json nullable_to(const std::optional<std::string>& b) { return b ? json(to_hex(*b)) : json(nullptr); }

int fail(const std::string& what) {
  std::fprintf(stderr, "interop_client: %s\n", what.c_str());
  return 1;
}

int produce(client::Client& c, const std::string& topic, uint32_t partition, int64_t batch_ts) {
  const json spec = json::parse(std::string(std::istreambuf_iterator<char>(std::cin), {}));
  std::vector<client::ProducerRecord> records;
  for (const json& r : spec) {
    client::ProducerRecord rec;
    rec.timestamp_us = r.at("timestamp").get<int64_t>();
    rec.key = nullable_from(r.at("key"));
    rec.value = nullable_from(r.at("value"));
    for (const json& h : r.at("headers")) rec.headers.push_back({h.at(0).get<std::string>(), from_hex(h.at(1))});
    records.push_back(std::move(rec));
  }
  auto r = c.produce(topic, partition, std::move(records), batch_ts);
  if (!r) return fail(r.error().to_string());
  std::cout << json{{"base_offset", r->base_offset}, {"record_count", r->record_count},
                    {"append_time_us", r->append_time_us}}
                   .dump()
            << "\n";
  return 0;
}

int fetch(client::Client& c, const std::string& topic, uint32_t partition, uint64_t offset) {
  auto end = c.latest_offset(topic, partition);
  if (!end) return fail(end.error().to_string());
  json out = json::array();
  while (offset < *end) {
    auto f = c.fetch(topic, partition, offset);
    if (!f) return fail(f.error().to_string());
    for (const Record& rec : f->records) {
      json headers = json::array();
      for (const RecordHeader& h : rec.headers) headers.push_back({h.name, to_hex(h.value)});
      out.push_back({{"offset", rec.offset}, {"timestamp", rec.timestamp_us}, {"key", nullable_to(rec.key)},
                     {"value", nullable_to(rec.value)}, {"headers", headers}});
    }
    offset = f->next_offset;
  }
  std::cout << out.dump() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "partition" && argc == 3) {
      const json keys = json::parse(std::string(std::istreambuf_iterator<char>(std::cin), {}));
      json out = json::array();
      for (const json& k : keys) out.push_back(client::partition_for_key(from_hex(k), std::stoul(argv[2])));
      std::cout << out.dump() << "\n";
      return 0;
    }
    if ((mode != "produce" && mode != "fetch") || argc != 6)
      return fail("usage: interop_client produce|fetch BROKER TOPIC PARTITION BATCH_TS|OFFSET, or partition N");
    auto c = client::Client::connect(argv[2]);
    if (!c) return fail(c.error().to_string());
    const uint32_t partition = static_cast<uint32_t>(std::stoul(argv[4]));
    if (mode == "produce") return produce(*c, argv[3], partition, std::stoll(argv[5]));
    return fetch(*c, argv[3], partition, std::stoull(argv[5]));
  } catch (const std::exception& e) {
    return fail(e.what());
  }
}
