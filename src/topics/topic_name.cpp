#include "topics/topic_name.h"

#include <string>

namespace rustlog {

Status validate_topic_name(std::string_view name) {
  auto bad = [&](const std::string& why) {
    return Status(ErrorCode::kInvalidRequest, "invalid topic name '" + std::string(name) + "': " + why);
  };
  if (name.empty()) return bad("it is empty");
  if (name.size() > kMaxTopicNameLength)
    return bad("longer than " + std::to_string(kMaxTopicNameLength) + " characters");
  if (name == "." || name == "..") return bad("'.' and '..' are not allowed");
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return bad("only letters, digits, '.', '_' and '-' are allowed");
  }
  return Status::ok();
}

}  // namespace rustlog
