#include "metrics/exposition.h"

#include <charconv>

#include "protocol/prometheus_text.h"

namespace rustlog::metrics {

namespace {

void append_uint(std::string& out, uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void append_int(std::string& out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// Length of the valid UTF-8 sequence starting at s[i], or 0.
size_t utf8_len(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  size_t n;
  uint32_t cp;
  if ((c & 0xE0) == 0xC0) n = 2, cp = c & 0x1F;
  else if ((c & 0xF0) == 0xE0) n = 3, cp = c & 0x0F;
  else if ((c & 0xF8) == 0xF0) n = 4, cp = c & 0x07;
  else return 0;
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are invalid.
  if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
      (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
    return 0;
  return n;
}

}  // namespace

std::string scaled_decimal(uint64_t v, unsigned decimals) {
  std::string out;
  if (decimals == 0) {
    append_uint(out, v);
    return out;
  }
  uint64_t div = 1;
  for (unsigned i = 0; i < decimals; ++i) div *= 10;
  append_uint(out, v / div);
  uint64_t frac = v % div;
  if (frac == 0) return out;
  std::string digits(decimals, '0');
  for (unsigned i = decimals; i-- > 0; frac /= 10) digits[i] = static_cast<char>('0' + frac % 10);
  while (!digits.empty() && digits.back() == '0') digits.pop_back();
  out += '.';
  out += digits;
  return out;
}

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (size_t i = 0; i < v.size();) {
    const size_t n = utf8_len(v, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
      continue;
    }
    const char c = v[i];
    if (n == 1 && c == '\\') out += "\\\\";
    else if (n == 1 && c == '"') out += "\\\"";
    else if (n == 1 && c == '\n') out += "\\n";
    else out.append(v.substr(i, n));
    i += n;
  }
  return out;
}

void ExpositionWriter::family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  // HELP text escapes only backslash and newline.
  for (char c : help) {
    if (c == '\\') out_ += "\\\\";
    else if (c == '\n') out_ += "\\n";
    else out_ += c;
  }
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void ExpositionWriter::labels(std::initializer_list<Label> ls, const Label* extra) {
  if (ls.size() == 0 && !extra) return;
  out_ += '{';
  bool first = true;
  auto one = [&](const Label& l) {
    if (!first) out_ += ',';
    first = false;
    out_ += l.first;
    out_ += "=\"";
    out_ += escape_label_value(l.second);
    out_ += '"';
  };
  for (const auto& l : ls) one(l);
  if (extra) one(*extra);
  out_ += '}';
}

void ExpositionWriter::sample(std::string_view name, std::initializer_list<Label> ls, uint64_t value) {
  out_ += name;
  labels(ls);
  out_ += ' ';
  append_uint(out_, value);
  out_ += '\n';
}

void ExpositionWriter::sample(std::string_view name, std::initializer_list<Label> ls, int64_t value) {
  out_ += name;
  labels(ls);
  out_ += ' ';
  append_int(out_, value);
  out_ += '\n';
}

void ExpositionWriter::sample_text(std::string_view name, std::initializer_list<Label> ls, std::string_view value) {
  out_ += name;
  labels(ls);
  out_ += ' ';
  out_ += value;
  out_ += '\n';
}

void ExpositionWriter::histogram(std::string_view name, std::initializer_list<Label> ls,
                                 const HistogramSnapshot& h, unsigned decimals) {
  const std::string bucket = std::string(name) + "_bucket";
  uint64_t run = 0;
  for (size_t i = 0; i < h.counts.size(); ++i) {
    run += h.counts[i];
    const std::string le = i + 1 == h.counts.size() ? std::string("+Inf") : scaled_decimal(h.layout.upper_bound(i), decimals);
    const Label extra{"le", le};
    out_ += bucket;
    labels(ls, &extra);
    out_ += ' ';
    append_uint(out_, run);
    out_ += '\n';
  }
  sample_text(std::string(name) + "_sum", ls, scaled_decimal(h.sum, decimals));
  sample(std::string(name) + "_count", ls, run);
}

// ------------------------------------------------------------------ parsing

const Sample* Exposition::find(std::string_view name, const std::map<std::string, std::string>& want) const {
  for (const auto& s : samples) {
    if (s.name != name) continue;
    bool ok = true;
    for (const auto& [k, v] : want) {
      auto it = s.labels.find(k);
      if (it == s.labels.end() || it->second != v) {
        ok = false;
        break;
      }
    }
    if (ok) return &s;
  }
  return nullptr;
}

std::optional<double> Exposition::value(std::string_view name, const std::map<std::string, std::string>& labels) const {
  const Sample* s = find(name, labels);
  if (!s) return std::nullopt;
  return s->value;
}

const Family* Exposition::family(std::string_view name) const {
  for (const auto& f : families)
    if (f.name == name) return &f;
  return nullptr;
}

Result<Exposition> parse_exposition(std::string_view text) {
  using protocol::prometheus::is_name_char;
  Exposition e;
  size_t line_no = 0;
  auto bad = [&](const std::string& why) {
    return Status(ErrorCode::kInvalidRequest, "metrics text line " + std::to_string(line_no) + ": " + why);
  };
  auto family_of = [&](const std::string& name) -> Family& {
    for (auto& f : e.families)
      if (f.name == name) return f;
    e.families.push_back({name, "untyped", ""});
    return e.families.back();
  };
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::string_view rest = line.substr(1);
      while (!rest.empty() && rest[0] == ' ') rest.remove_prefix(1);
      const bool help = rest.substr(0, 5) == "HELP ";
      const bool type = rest.substr(0, 5) == "TYPE ";
      if (!help && !type) continue;  // a plain comment
      rest.remove_prefix(5);
      const size_t sp = rest.find(' ');
      const std::string name(rest.substr(0, sp));
      const std::string_view arg = sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
      Family& f = family_of(name);
      if (type) {
        f.type = std::string(arg);
      } else {
        f.help = protocol::prometheus::unescape_help(arg);
      }
      continue;
    }
    Sample s;
    size_t i = 0;
    while (i < line.size() && is_name_char(line[i], i == 0)) ++i;
    if (i == 0) return bad("expected a metric name");
    s.name = std::string(line.substr(0, i));
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (true) {
        while (i < line.size() && (line[i] == ' ' || line[i] == ',')) ++i;
        if (i < line.size() && line[i] == '}') {
          ++i;
          break;
        }
        const size_t k0 = i;
        while (i < line.size() && is_name_char(line[i], i == k0)) ++i;
        if (i == k0 || i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"')
          return bad("malformed label in '" + std::string(line) + "'");
        const std::string key(line.substr(k0, i - k0));
        i += 2;
        std::string val;
        if (!protocol::prometheus::read_label_value(line, &i, &val))
          return bad("unterminated label value in '" + std::string(line) + "'");
        if (!s.labels.emplace(key, std::move(val)).second) return bad("duplicate label '" + key + "'");
      }
    }
    if (i >= line.size() || line[i] != ' ') return bad("expected a space before the value in '" + std::string(line) + "'");
    while (i < line.size() && line[i] == ' ') ++i;
    const size_t v0 = i;
    while (i < line.size() && line[i] != ' ') ++i;
    s.value_text = std::string(line.substr(v0, i - v0));
    auto v = protocol::prometheus::parse_value(s.value_text);
    if (!v) return bad("bad value '" + s.value_text + "'");
    s.value = *v;
    e.samples.push_back(std::move(s));
  }
  return e;
}

}  // namespace rustlog::metrics
