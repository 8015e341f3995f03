// Printable renderings used by `rustlog dump`: escaping of arbitrary bytes
// (null vs empty, control bytes, UTF-8 kept, invalid UTF-8 escaped) and UTC
// timestamps.
#include "admin/text.h"

#include <gtest/gtest.h>

namespace rustlog::admin {
namespace {

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

TEST(AdminText, PrintableAsciiPassesThrough) {
  EXPECT_EQ(escape_bytes("hello, world ~!"), "hello, world ~!");
  EXPECT_EQ(escape_bytes(""), "");
}

TEST(AdminText, QuotesBackslashesAndControlBytesAreEscaped) {
  EXPECT_EQ(escape_bytes("a\"b\\c"), "a\\\"b\\\\c");
  EXPECT_EQ(escape_bytes("l1\nl2\r\tx"), "l1\\nl2\\r\\tx");
  EXPECT_EQ(escape_bytes(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(escape_bytes(bytes({0x01, 0x1f, 0x7f})), "\\x01\\x1f\\x7f");
}

TEST(AdminText, WellFormedUtf8IsKept) {
  EXPECT_EQ(escape_bytes("caf\xc3\xa9"), "caf\xc3\xa9");                   // é
  EXPECT_EQ(escape_bytes("\xe2\x82\xac"), "\xe2\x82\xac");                 // €
  EXPECT_EQ(escape_bytes("\xf0\x9f\x98\x80"), "\xf0\x9f\x98\x80");         // U+1F600
  EXPECT_EQ(escape_bytes("\xc2\xa0"), "\xc2\xa0");                         // U+00A0
}

TEST(AdminText, InvalidUtf8AndC1ControlsAreEscapedBytewise) {
  EXPECT_EQ(escape_bytes(bytes({0xff})), "\\xff");
  EXPECT_EQ(escape_bytes(bytes({'a', 0xc3})), "a\\xc3");                     // truncated
  EXPECT_EQ(escape_bytes(bytes({0xc0, 0x80})), "\\xc0\\x80");                 // overlong NUL
  EXPECT_EQ(escape_bytes(bytes({0xe0, 0x80, 0x80})), "\\xe0\\x80\\x80");      // overlong
  EXPECT_EQ(escape_bytes(bytes({0xed, 0xa0, 0x80})), "\\xed\\xa0\\x80");      // surrogate
  EXPECT_EQ(escape_bytes(bytes({0xf4, 0x90, 0x80, 0x80})), "\\xf4\\x90\\x80\\x80");  // > U+10FFFF
  EXPECT_EQ(escape_bytes(bytes({0xc2, 0x80})), "\\xc2\\x80");                 // C1 control
  EXPECT_EQ(escape_bytes(bytes({0xe2, 0x82})), "\\xe2\\x82");                 // cut short
}

TEST(AdminText, NullAndEmptyNeverLookAlike) {
  EXPECT_EQ(quote_bytes(std::nullopt), "null");
  EXPECT_EQ(quote_bytes(std::string()), "\"\"");
  EXPECT_EQ(quote_bytes(std::string("null")), "\"null\"");
  EXPECT_EQ(quote_bytes(std::string("a\0", 2)), "\"a\\x00\"");
}

TEST(AdminText, TimestampsAreUtcWithMicroseconds) {
  EXPECT_EQ(format_timestamp_us(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(format_timestamp_us(1'700'000'000'000'001), "2023-11-14T22:13:20.000001Z");
  EXPECT_EQ(format_timestamp_us(-1), "1969-12-31T23:59:59.999999Z");
}

}  // namespace
}  // namespace rustlog::admin
