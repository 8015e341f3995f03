// CRC-32C: published check values, chaining, and the SSE4.2 path against the
// table-driven one for every length 0..1024 at every alignment.
#include "common/crc32c.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "support/record_gen.h"

namespace rustlog {
namespace {

uint32_t crc_of(const std::string& s) {
  return crc32c(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}
uint32_t sw_crc_of(const std::string& s) {
  return crc32c_software(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

TEST(Crc32cTest, KnownVectors) {
  // The CRC catalogue check value and the RFC 3720 (iSCSI) B.4 vectors.
  struct V {
    std::string data;
    uint32_t crc;
  };
  std::string inc(32, '\0'), dec(32, '\0');
  for (int i = 0; i < 32; ++i) {
    inc[i] = static_cast<char>(i);
    dec[i] = static_cast<char>(31 - i);
  }
  const std::vector<V> vectors = {
      {"", 0x00000000u},
      {"a", 0xC1D04330u},
      {"123456789", 0xE3069283u},
      {std::string(32, '\0'), 0x8A9136AAu},
      {std::string(32, '\xFF'), 0x62A8AB43u},
      {inc, 0x46DD794Eu},
      {dec, 0x113FDB5Cu},
  };
  for (const auto& v : vectors) {
    SCOPED_TRACE("input of " + std::to_string(v.data.size()) + " bytes");
    EXPECT_EQ(crc_of(v.data), v.crc);
    EXPECT_EQ(sw_crc_of(v.data), v.crc);
  }
}

TEST(Crc32cTest, ChainingEqualsOneShot) {
  const uint64_t seed = 11;
  SCOPED_TRACE(test::seed_trace(seed));
  test::RecordGen g(seed);
  const std::string data = g.bytes(4096);
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  const uint32_t whole = crc32c(p, data.size());
  for (int i = 0; i < 200; ++i) {
    const size_t cut = g.uniform(0, data.size());
    EXPECT_EQ(crc32c(p + cut, data.size() - cut, crc32c(p, cut)), whole) << "cut " << cut;
    EXPECT_EQ(crc32c_software(p + cut, data.size() - cut, crc32c_software(p, cut)), whole);
  }
}

TEST(Crc32cTest, HardwareMatchesSoftwareForAllLengthsAndAlignments) {
  if (!crc32c_hardware_available())
    std::printf("note: no SSE4.2 on this CPU; crc32c() is the software path\n");
  const uint64_t seed = 12;
  SCOPED_TRACE(test::seed_trace(seed));
  test::RecordGen g(seed);
  const std::string buf = g.bytes(1024 + 64);
  for (size_t len = 0; len <= 1024; ++len) {
    for (size_t align = 0; align < 16; ++align) {
      const auto* p = reinterpret_cast<const uint8_t*>(buf.data()) + align;
      const uint32_t init = (align & 1) ? static_cast<uint32_t>(g.rng()()) : 0;
      ASSERT_EQ(crc32c(p, len, init), crc32c_software(p, len, init))
          << "len " << len << " align " << align << " init " << init;
    }
  }
  // Random lengths and alignments within a bigger buffer.
  const std::string big = g.bytes(1 << 16);
  for (int i = 0; i < 2000; ++i) {
    const size_t off = g.uniform(0, big.size() - 1);
    const size_t len = g.uniform(0, big.size() - off);
    const auto* p = reinterpret_cast<const uint8_t*>(big.data()) + off;
    ASSERT_EQ(crc32c(p, len), crc32c_software(p, len)) << "off " << off << " len " << len;
  }
}

TEST(Crc32cTest, DetectsEverySingleBitFlip) {
  const uint64_t seed = 13;
  SCOPED_TRACE(test::seed_trace(seed));
  test::RecordGen g(seed);
  std::string data = g.bytes(300);
  const uint32_t good = crc_of(data);
  for (size_t i = 0; i < data.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      data[i] = static_cast<char>(data[i] ^ (1 << bit));
      ASSERT_NE(crc_of(data), good) << "byte " << i << " bit " << bit;
      data[i] = static_cast<char>(data[i] ^ (1 << bit));
    }
  }
}

}  // namespace
}  // namespace rustlog
