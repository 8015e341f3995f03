#pragma once
// Fuzz targets for text the broker and its tools parse: the TOML
// configuration file and the Prometheus text format (the strict parser of
// the metrics layer and the lenient one of the client library).
#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "broker/broker_config.h"
#include "client/metrics_text.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/storage_targets.h"
#include "metrics/exposition.h"

namespace rustlog::fuzz {

// Input: a TOML file. Loading fails with a message or applies only known
// options; validation of whatever was applied never crashes.
inline int fuzz_toml_config(const uint8_t* data, size_t size) {
  const std::string path = scratch_dir() + "/broker.toml";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  FUZZ_CHECK(fd >= 0, "cannot create the config file");
  FUZZ_CHECK(::write(fd, data, size) == static_cast<ssize_t>(size), "cannot write the config file");
  ::close(fd);
  BrokerConfig cfg;
  const Status st = apply_toml_file(cfg, path);
  if (!st) {
    FUZZ_CHECK(!st.message().empty(), "a rejected config has no message");
    return 0;
  }
  (void)validate_config(cfg);
  return 0;
}

// Input: exposition text. Whatever the strict parser accepts, the lenient
// one accepts too, with the same samples.
inline int fuzz_prometheus_text(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto strict = metrics::parse_exposition(text);
  auto lenient = client::parse_prometheus_text(text);
  if (!strict.is_ok()) return 0;
  FUZZ_CHECK(lenient.ok(), "the client rejects text the strict parser accepts");
  size_t samples = 0;
  for (const auto& f : *lenient) samples += f.samples.size();
  FUZZ_CHECK(samples == strict->samples.size(), "the two parsers disagree on the number of samples");
  return 0;
}

}  // namespace rustlog::fuzz
