#pragma once
// The lexical rules of the Prometheus text exposition format (0.0.4), the
// body of a MetricsResponse and of GET /metrics: which characters make a
// name, how sample values are spelled, and how HELP text and label values
// are escaped. Both readers of that text use them: metrics::parse_exposition
// (strict, checks what the broker writes) and client::parse_prometheus_text
// (lenient, for users of the installed client). They live in the protocol
// layer because the client must not depend on the metrics layer.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace rustlog::protocol::prometheus {

// A character of a metric or label name: [a-zA-Z_:], and [0-9] after the first.
bool is_name_char(char c, bool first);

// A sample value (or an "le" bound): a number strtod accepts whole, "+Inf",
// "Inf", "-Inf" or "NaN". nullopt for anything else, the empty string too.
std::optional<double> parse_value(std::string_view text);

// HELP text with its escapes undone: a backslash and the character after it
// become that character, or a newline for "\n"; a trailing backslash stays.
std::string unescape_help(std::string_view text);

// Reads a label value starting at line[*i], just after its opening quote,
// into *value (with \" \\ and \n undone, like HELP text) and moves *i past
// the closing quote. False when the line ends before the closing quote.
bool read_label_value(std::string_view line, size_t* i, std::string* value);

}  // namespace rustlog::protocol::prometheus
