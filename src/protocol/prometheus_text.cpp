#include "protocol/prometheus_text.h"

#include <cstdlib>
#include <limits>

namespace rustlog::protocol::prometheus {

bool is_name_char(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
         (!first && c >= '0' && c <= '9');
}

std::optional<double> parse_value(std::string_view text) {
  if (text == "+Inf" || text == "Inf") return std::numeric_limits<double>::infinity();
  if (text == "-Inf") return -std::numeric_limits<double>::infinity();
  if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
  std::string tmp(text);  // strtod needs a terminated string
  char* end = nullptr;
  const double v = std::strtod(tmp.c_str(), &end);
  if (tmp.empty() || end != tmp.c_str() + tmp.size()) return std::nullopt;
  return v;
}

std::string unescape_help(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size()) {
      ++i;
      out += text[i] == 'n' ? '\n' : text[i];
    } else {
      out += text[i];
    }
  }
  return out;
}

bool read_label_value(std::string_view line, size_t* i, std::string* value) {
  while (*i < line.size()) {
    const char c = line[(*i)++];
    if (c == '"') return true;
    if (c == '\\' && *i < line.size()) {
      const char e = line[(*i)++];
      *value += e == 'n' ? '\n' : e;
    } else {
      *value += c;
    }
  }
  return false;
}

}  // namespace rustlog::protocol::prometheus
