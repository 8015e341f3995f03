#pragma once
// Human-readable renderings shared by the offline tools: arbitrary record
// bytes as printable text, and microsecond timestamps as UTC dates.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rustlog::admin {

// `bytes` with every byte that would not print escaped: backslash and double
// quote as \\ and \", newline/CR/tab as \n \r \t, other control characters,
// C1 controls and bytes that are not part of well-formed UTF-8 as \xHH.
// Well-formed UTF-8 text passes through unchanged, so the result is always
// valid UTF-8 and decodes back unambiguously.
std::string escape_bytes(std::string_view bytes);

// `"escaped"` for a value, the bare word null for a missing one: a null key
// and an empty key ("") must never look alike.
std::string quote_bytes(const std::optional<std::string>& value);

// 2024-01-31T12:00:00.000123Z for microseconds since the Unix epoch.
std::string format_timestamp_us(int64_t us);

}  // namespace rustlog::admin
