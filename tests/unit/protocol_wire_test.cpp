// Primitive encodings: Reader bounds checks and Writer limits (docs/PROTOCOL.md,
// "Primitives").
#include <gtest/gtest.h>

#include <string>

#include "protocol/wire.h"

namespace rustlog::protocol {
namespace {

TEST(ProtocolWireTest, IntegersAreBigEndian) {
  std::string out;
  Writer w(out);
  w.u8(0x01);
  w.u16(0x0203);
  w.u32(0x04050607);
  w.u64(0x08090A0B0C0D0E0F);
  w.i32(-2);
  w.i64(-1);
  ASSERT_TRUE(w.status().is_ok());
  EXPECT_EQ(out, std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0A\x0B\x0C\x0D\x0E\x0F"
                             "\xFF\xFF\xFF\xFE\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF",
                             27));
  Reader r(out, "test");
  EXPECT_EQ(r.u8("a"), 0x01);
  EXPECT_EQ(r.u16("b"), 0x0203);
  EXPECT_EQ(r.u32("c"), 0x04050607u);
  EXPECT_EQ(r.u64("d"), 0x08090A0B0C0D0E0Fu);
  EXPECT_EQ(r.i32("e"), -2);
  EXPECT_EQ(r.i64("f"), -1);
  EXPECT_TRUE(r.finish().is_ok());
}

TEST(ProtocolWireTest, StringsBytesAndNullableBytesRoundTrip) {
  std::string out;
  Writer w(out);
  w.string("héllo", "s");
  w.bytes(std::string("\0\1", 2), "b");
  w.nullable_bytes(std::nullopt, "n");
  w.nullable_bytes(std::string(), "e");
  w.count(3, "c");
  ASSERT_TRUE(w.status().is_ok());
  EXPECT_EQ(out.size(), 2u + 6u + 4u + 2u + 4u + 4u + 4u);
  Reader r(out, "test");
  EXPECT_EQ(r.string("s"), "héllo");
  EXPECT_EQ(r.bytes("b"), std::string("\0\1", 2));
  EXPECT_EQ(r.nullable_bytes("n"), std::nullopt);
  EXPECT_EQ(r.nullable_bytes("e"), std::string());
  EXPECT_EQ(r.count("c", 0), 3u);
  EXPECT_TRUE(r.finish().is_ok());
}

TEST(ProtocolWireTest, ReaderNeverReadsPastTheEndAndKeepsTheFirstError) {
  const std::string data("\x00\x00\x00", 3);
  Reader r(data, "Thing request");
  EXPECT_EQ(r.u32("first"), 0u);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.u8("second"), 0u);  // data is still there, but reads stop after an error
  EXPECT_EQ(r.position(), 0u);
  Status st = r.finish();
  EXPECT_EQ(st.code(), ErrorCode::kInvalidRequest);
  EXPECT_EQ(st.message(),
            "invalid Thing request: field 'first' truncated at byte 0: needs 4 bytes, 3 left");
}

TEST(ProtocolWireTest, BytesLengthBeyondInputIsRejectedWithoutAllocating) {
  const std::string data("\xFF\xFF\xFF\xF0xyz", 7);
  Reader r(data, "t");
  EXPECT_EQ(r.bytes("value"), "");
  EXPECT_FALSE(r.ok());
}

TEST(ProtocolWireTest, NullableLengthsOtherThanMinusOneMustBeNonNegative) {
  const std::string data("\xFF\xFF\xFF\xFE", 4);
  Reader r(data, "t");
  EXPECT_EQ(r.nullable_bytes("key"), std::nullopt);
  EXPECT_NE(r.finish().message().find("has length -2"), std::string::npos);
}

TEST(ProtocolWireTest, CountIsCheckedAgainstRemainingBytes) {
  const std::string data("\x00\x00\x00\x03" "abcdef", 10);
  Reader ok(data, "t");
  EXPECT_EQ(ok.count("n", 2), 3u);
  Reader bad(data, "t");
  EXPECT_EQ(bad.count("n", 3), 0u);  // 3 * 3 > 6
  EXPECT_FALSE(bad.ok());
}

TEST(ProtocolWireTest, TrailingBytesFailFinish) {
  Reader r("ab", "X response");
  r.u8("a");
  EXPECT_EQ(r.finish().message(),
            "invalid X response: 1 trailing bytes after the last field (at byte 1)");
}

TEST(ProtocolWireTest, WireStringRules) {
  EXPECT_TRUE(is_wire_string(""));
  EXPECT_TRUE(is_wire_string("plain-ascii.topic_1"));
  EXPECT_TRUE(is_wire_string("\xC3\xB4\xE2\x82\xAC\xF0\x9F\x98\x80"));  // ô € 😀
  EXPECT_FALSE(is_wire_string(std::string("a\0b", 3)));
  EXPECT_FALSE(is_wire_string("\x80"));                // lone continuation
  EXPECT_FALSE(is_wire_string("\xC3"));                // cut sequence
  EXPECT_FALSE(is_wire_string("\xE0\x80\xAF"));        // overlong
  EXPECT_FALSE(is_wire_string("\xED\xA0\x80"));        // surrogate
  EXPECT_FALSE(is_wire_string("\xF4\x90\x80\x80"));    // above U+10FFFF
  EXPECT_FALSE(is_wire_string("\xFF"));
}

TEST(ProtocolWireTest, ToWireStringReplacesInvalidBytesAndCutsAtCharacterBoundary) {
  EXPECT_EQ(to_wire_string(std::string("a\0\xFF" "b", 4)), "a??b");
  EXPECT_EQ(to_wire_string("\xC3\xB4\xC3\xB4", 3), "\xC3\xB4");  // no half character
  EXPECT_EQ(to_wire_string(std::string(70000, 'x')).size(), kMaxStringBytes);
}

TEST(ProtocolWireTest, WriterRejectsUnrepresentableStrings) {
  std::string out;
  Writer w(out);
  w.string(std::string(65535, 'a'), "ok");
  EXPECT_TRUE(w.status().is_ok());
  w.string(std::string(65536, 'a'), "topic");
  EXPECT_EQ(w.status().code(), ErrorCode::kInvalidRequest);
  EXPECT_NE(w.status().message().find("'topic' is 65536 bytes"), std::string::npos);
  Writer w2(out);
  w2.string("\xFF", "name");
  EXPECT_FALSE(w2.status().is_ok());
}

}  // namespace
}  // namespace rustlog::protocol
