#include "metrics/broker_metrics.h"

#include "protocol/message_type.h"

namespace rustlog {

namespace {
void counter(std::string& out, const char* name, const char* help, uint64_t v) {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n" + name + " " +
         std::to_string(v) + "\n";
}
void gauge(std::string& out, const char* name, const char* help, uint64_t v) {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " gauge\n" + name + " " +
         std::to_string(v) + "\n";
}
}  // namespace

std::string BrokerMetrics::render() const {
  std::string out;
  out += "# HELP rustlog_requests_total Requests received, by request type.\n"
         "# TYPE rustlog_requests_total counter\n";
  for (int t = 0; t < 256; ++t)
    if (uint64_t v = requests[t].get())
      out += std::string("rustlog_requests_total{type=\"") +
             protocol::message_type_name(static_cast<protocol::MessageType>(t)) + "\"} " + std::to_string(v) + "\n";
  out += "# HELP rustlog_request_errors_total Requests answered with an error, by request type.\n"
         "# TYPE rustlog_request_errors_total counter\n";
  for (int t = 0; t < 256; ++t)
    if (uint64_t v = request_errors[t].get())
      out += std::string("rustlog_request_errors_total{type=\"") +
             protocol::message_type_name(static_cast<protocol::MessageType>(t)) + "\"} " + std::to_string(v) + "\n";
  gauge(out, "rustlog_connections_open", "Open client connections.", connections_open.get());
  counter(out, "rustlog_connections_accepted_total", "Connections accepted.", connections_accepted.get());
  counter(out, "rustlog_connections_rejected_total", "Connections closed at once: over max_connections.",
          connections_rejected.get());
  counter(out, "rustlog_connections_protocol_closed_total", "Connections closed for a framing violation.",
          connections_protocol_closed.get());
  counter(out, "rustlog_records_in_total", "Records appended.", records_in.get());
  counter(out, "rustlog_bytes_in_total", "Batch bytes appended.", bytes_in.get());
  counter(out, "rustlog_records_out_total", "Records returned by fetches.", records_out.get());
  counter(out, "rustlog_fsync_total", "fdatasync calls on partition logs.", flushes.get());
  counter(out, "rustlog_fsync_errors_total", "Failed fdatasync calls (the partition turns read-only).",
          flush_errors.get());
  counter(out, "rustlog_group_commit_requests_total", "Requests acknowledged by a group commit flush.",
          group_commit_requests.get());
  counter(out, "rustlog_recovery_bytes_truncated_total", "Bytes of torn tail cut by recovery at start.",
          recovery_bytes_truncated.get());
  counter(out, "rustlog_recovery_indexes_rebuilt_total", "Segment indexes rebuilt at start.",
          recovery_indexes_rebuilt.get());
  counter(out, "rustlog_recovery_corruptions_total", "Corrupt ranges found by recovery at start.",
          recovery_corruptions.get());
  return out;
}

}  // namespace rustlog
