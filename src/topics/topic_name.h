#pragma once
// Topic naming rules: [A-Za-z0-9._-], 1-249 characters, not "." or "..".
// Names beginning with "__" are reserved for internal topics.
#include <string_view>

#include "common/status.h"

namespace rustlog {

inline constexpr size_t kMaxTopicNameLength = 249;
inline constexpr std::string_view kInternalPrefix = "__";

Status validate_topic_name(std::string_view name);
inline bool is_internal_topic(std::string_view name) { return name.substr(0, 2) == kInternalPrefix; }

}  // namespace rustlog
