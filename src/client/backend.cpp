// Choosing the implementation by address, and finding the Kafka one.
#include "client/backend.h"

namespace rustlog::client {

namespace detail {
// Weak: resolved only when rustlog_client_kafka is linked (its CMake target
// makes the linker take kafka_factory.cpp, which defines them).
[[gnu::weak]] ClientResult<std::unique_ptr<ProducerBackend>> make_kafka_producer(const std::string& address,
                                                                                 const std::string& bootstrap,
                                                                                 const ProducerOptions& options);
[[gnu::weak]] ClientResult<std::unique_ptr<ConsumerBackend>> make_kafka_consumer(
    const std::string& address, const std::string& bootstrap, const ConsumerOptions& options,
    const ClientOptions& client_options);
}  // namespace detail

namespace {
ClientError no_kafka(std::string_view address) {
  return ClientError::invalid_argument("'" + std::string(address) +
                                       "' is a Kafka address, but this build has no Kafka support; rebuild with "
                                       "-DRUSTLOG_WITH_KAFKA=ON (needs librdkafka-dev) and link rustlog_client_kafka");
}
}  // namespace

bool is_kafka_address(std::string_view address) { return address.starts_with(kKafkaScheme); }

ClientResult<std::string> kafka_bootstrap_servers(std::string_view address) {
  if (!is_kafka_address(address))
    return ClientError::invalid_argument("'" + std::string(address) + "' is not a kafka:// address");
  std::string_view rest = address.substr(kKafkaScheme.size());
  std::string out;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    const std::string_view one = rest.substr(0, comma);
    auto a = parse_broker_address(one);
    if (!a)
      return ClientError::invalid_argument("Kafka address '" + std::string(address) + "': " + a.error().message());
    if (!out.empty()) out += ',';
    out += a->to_string();
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
    if (rest.empty()) return ClientError::invalid_argument("Kafka address '" + std::string(address) + "' ends with ','");
  }
  if (out.empty())
    return ClientError::invalid_argument("Kafka address '" + std::string(address) +
                                         "' names no broker: write kafka://host:port[,host:port...]");
  return out;
}

bool kafka_supported() { return detail::make_kafka_producer != nullptr; }

ClientResult<std::unique_ptr<ProducerBackend>> open_kafka_producer(std::string_view address,
                                                                   const ProducerOptions& options) {
  if (!kafka_supported()) return no_kafka(address);
  auto bootstrap = kafka_bootstrap_servers(address);
  if (!bootstrap) return bootstrap.error();
  return detail::make_kafka_producer(std::string(address), *bootstrap, options);
}

ClientResult<std::unique_ptr<ConsumerBackend>> open_kafka_consumer(std::string_view address,
                                                                   const ConsumerOptions& options,
                                                                   const ClientOptions& client_options) {
  if (!detail::make_kafka_consumer) return no_kafka(address);
  auto bootstrap = kafka_bootstrap_servers(address);
  if (!bootstrap) return bootstrap.error();
  return detail::make_kafka_consumer(std::string(address), *bootstrap, options, client_options);
}

}  // namespace rustlog::client
