// The Kafka implementations as client/backend.h finds them. The CMake
// target rustlog_client_kafka makes every program that links it take this
// file (--undefined=rustlog_client_kafka_linked), which defines the
// functions rustlog_client refers to weakly.
#include "client/backend.h"
#include "client/kafka/kafka_consumer.h"
#include "client/kafka/kafka_producer.h"

extern "C" {
extern const int rustlog_client_kafka_linked;
const int rustlog_client_kafka_linked = 1;
}

namespace rustlog::client::detail {

ClientResult<std::unique_ptr<ProducerBackend>> make_kafka_producer(const std::string& address,
                                                                   const std::string& bootstrap,
                                                                   const ProducerOptions& options) {
  return kafka::KafkaProducer::open(address, bootstrap, options);
}

ClientResult<std::unique_ptr<ConsumerBackend>> make_kafka_consumer(const std::string& address,
                                                                   const std::string& bootstrap,
                                                                   const ConsumerOptions& options,
                                                                   const ClientOptions& client_options) {
  return kafka::KafkaConsumer::open(address, bootstrap, options, client_options);
}

}  // namespace rustlog::client::detail
