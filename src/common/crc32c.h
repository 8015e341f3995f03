#pragma once
// CRC-32C (Castagnoli). Uses the SSE4.2 crc32 instruction when the CPU has it
// (checked once at startup), a slicing-by-8 table otherwise. Both give the
// same values; crc32c_software() is exposed so tests can compare them.
#include <cstddef>
#include <cstdint>

namespace rustlog {

uint32_t crc32c(const uint8_t* data, size_t n, uint32_t crc = 0);
uint32_t crc32c_software(const uint8_t* data, size_t n, uint32_t crc = 0);
bool crc32c_hardware_available();

}  // namespace rustlog
