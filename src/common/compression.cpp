#include "common/compression.h"

#include <lz4frame.h>
#include <zstd.h>

#include <algorithm>
#include <charconv>
#include <memory>

namespace rustlog {

namespace {

constexpr int kLz4MaxLevel = 12;  // LZ4HC_CLEVEL_MAX
constexpr int kZstdMinLevel = -7;
constexpr int kZstdMaxLevel = 22;
constexpr size_t kFirstOutput = 64 * 1024;

Status corrupt(Codec codec, const std::string& what) {
  return Status(ErrorCode::kCorruptRecord, std::string(codec_name(codec)) + " block: " + what);
}

Status too_large(Codec codec, size_t max_bytes) {
  return Status(ErrorCode::kTooLarge,
                std::string(codec_name(codec)) + " block decompresses to more than " + std::to_string(max_bytes) +
                    " bytes (--max-decompressed-batch-bytes): refused");
}

// One context per thread, made on first use (the loop thread, a client's I/O
// thread, the cleaner): contexts are expensive to create and not shareable.
struct ZstdContexts {
  std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> c{ZSTD_createCCtx(), ZSTD_freeCCtx};
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> d{ZSTD_createDCtx(), ZSTD_freeDCtx};
};
ZstdContexts& zstd() {
  thread_local ZstdContexts z;
  return z;
}

struct Lz4Context {
  LZ4F_dctx* d = nullptr;
  Lz4Context() { (void)LZ4F_createDecompressionContext(&d, LZ4F_VERSION); }
  ~Lz4Context() { LZ4F_freeDecompressionContext(d); }
};
LZ4F_dctx* lz4_dctx() {
  thread_local Lz4Context c;
  return c.d;
}

// The output grows geometrically up to one byte past the bound, so a block
// of exactly max_bytes decodes and one byte more is seen as too large.
bool grow(std::string* out, size_t limit) {
  if (out->size() >= limit) return false;
  out->resize(std::min(limit, std::max(kFirstOutput, out->size() * 2)));
  return true;
}

Status zstd_decompress(std::string_view in, size_t max_bytes, std::string* out) {
  const unsigned long long declared = ZSTD_getFrameContentSize(in.data(), in.size());
  if (declared == ZSTD_CONTENTSIZE_ERROR) return corrupt(Codec::kZstd, "not a Zstandard frame");
  if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared > max_bytes) return too_large(Codec::kZstd, max_bytes);
  ZSTD_DCtx* d = zstd().d.get();
  if (!d) return Status(ErrorCode::kInternal, "cannot allocate a Zstandard context");
  ZSTD_DCtx_reset(d, ZSTD_reset_session_only);
  const size_t limit = max_bytes + 1;
  out->clear();
  out->resize(declared != ZSTD_CONTENTSIZE_UNKNOWN ? static_cast<size_t>(declared) + 1
                                                   : std::min(limit, std::max(kFirstOutput, in.size() * 4)));
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  size_t pos = 0;
  for (;;) {
    ZSTD_outBuffer ob{out->data(), out->size(), pos};
    const size_t r = ZSTD_decompressStream(d, &ob, &ib);
    pos = ob.pos;
    if (ZSTD_isError(r)) return corrupt(Codec::kZstd, ZSTD_getErrorName(r));
    if (pos > max_bytes) return too_large(Codec::kZstd, max_bytes);
    if (r == 0) {
      if (ib.pos != ib.size) return corrupt(Codec::kZstd, "bytes after the frame");
      break;
    }
    if (ob.pos == ob.size) {
      if (!grow(out, limit)) return too_large(Codec::kZstd, max_bytes);
    } else if (ib.pos == ib.size) {
      return corrupt(Codec::kZstd, "the frame ends early");
    }
  }
  out->resize(pos);
  return Status::ok();
}

Status lz4_decompress(std::string_view in, size_t max_bytes, std::string* out) {
  LZ4F_dctx* d = lz4_dctx();
  if (!d) return Status(ErrorCode::kInternal, "cannot allocate an LZ4 context");
  LZ4F_resetDecompressionContext(d);
  const size_t limit = max_bytes + 1;
  out->clear();
  out->resize(std::min(limit, std::max(kFirstOutput, in.size() * 4)));
  size_t ipos = 0, pos = 0;
  for (;;) {
    size_t dst = out->size() - pos, src = in.size() - ipos;
    const size_t r = LZ4F_decompress(d, out->data() + pos, &dst, in.data() + ipos, &src, nullptr);
    pos += dst;
    ipos += src;
    if (LZ4F_isError(r)) return corrupt(Codec::kLz4, LZ4F_getErrorName(r));
    if (pos > max_bytes) return too_large(Codec::kLz4, max_bytes);
    if (r == 0) {
      if (ipos != in.size()) return corrupt(Codec::kLz4, "bytes after the frame");
      break;
    }
    if (pos == out->size()) {
      if (!grow(out, limit)) return too_large(Codec::kLz4, max_bytes);
    } else if (ipos == in.size()) {
      return corrupt(Codec::kLz4, "the frame ends early");
    }
  }
  out->resize(pos);
  return Status::ok();
}

}  // namespace

const char* codec_name(Codec codec) {
  switch (codec) {
    case Codec::kNone: return "none";
    case Codec::kLz4: return "lz4";
    case Codec::kZstd: return "zstd";
  }
  return "unknown";
}

std::optional<Codec> codec_from_bits(uint16_t bits) {
  if (bits > static_cast<uint16_t>(Codec::kZstd)) return std::nullopt;
  return static_cast<Codec>(bits);
}

Result<Compression> parse_compression(std::string_view text) {
  const auto colon = text.find(':');
  const std::string_view name = text.substr(0, colon);
  Compression c;
  if (name == "none") c.codec = Codec::kNone;
  else if (name == "lz4") c.codec = Codec::kLz4;
  else if (name == "zstd") c.codec = Codec::kZstd;
  else
    return Status(ErrorCode::kInvalidRequest, "compression '" + std::string(text) +
                                                  "': expected none, lz4, lz4:LEVEL (0-12), zstd or zstd:LEVEL (-7-22)");
  if (colon == std::string_view::npos) return c;
  const std::string_view lv = text.substr(colon + 1);
  const auto [end, ec] = std::from_chars(lv.data(), lv.data() + lv.size(), c.level);
  const bool ok = ec == std::errc() && end == lv.data() + lv.size() && !lv.empty() &&
                  (c.codec == Codec::kLz4 ? c.level >= 0 && c.level <= kLz4MaxLevel
                   : c.codec == Codec::kZstd ? c.level >= kZstdMinLevel && c.level <= kZstdMaxLevel
                                             : false);
  if (!ok)
    return Status(ErrorCode::kInvalidRequest, "compression '" + std::string(text) +
                                                  "': the level must be 0-12 for lz4, -7-22 for zstd; none has none");
  return c;
}

std::string compression_to_string(const Compression& c) {
  std::string s = codec_name(c.codec);
  if (c.codec != Codec::kNone && c.level != 0) s += ":" + std::to_string(c.level);
  return s;
}

Status compress_block(const Compression& c, std::string_view in, std::string* out) {
  const size_t at = out->size();
  switch (c.codec) {
    case Codec::kNone: out->append(in); return Status::ok();
    case Codec::kLz4: {
      LZ4F_preferences_t prefs{};
      prefs.frameInfo.contentSize = in.size();
      prefs.compressionLevel = c.level;
      out->resize(at + LZ4F_compressFrameBound(in.size(), &prefs));
      const size_t n = LZ4F_compressFrame(out->data() + at, out->size() - at, in.data(), in.size(), &prefs);
      if (LZ4F_isError(n)) {
        out->resize(at);
        return Status(ErrorCode::kInternal, std::string("lz4 compression failed: ") + LZ4F_getErrorName(n));
      }
      out->resize(at + n);
      return Status::ok();
    }
    case Codec::kZstd: {
      ZSTD_CCtx* z = zstd().c.get();
      if (!z) return Status(ErrorCode::kInternal, "cannot allocate a Zstandard context");
      ZSTD_CCtx_reset(z, ZSTD_reset_session_only);
      ZSTD_CCtx_setParameter(z, ZSTD_c_compressionLevel, c.level);
      out->resize(at + ZSTD_compressBound(in.size()));
      const size_t n = ZSTD_compress2(z, out->data() + at, out->size() - at, in.data(), in.size());
      if (ZSTD_isError(n)) {
        out->resize(at);
        return Status(ErrorCode::kInternal, std::string("zstd compression failed: ") + ZSTD_getErrorName(n));
      }
      out->resize(at + n);
      return Status::ok();
    }
  }
  return Status(ErrorCode::kInternal, "unknown codec");
}

Status decompress_block(Codec codec, std::string_view in, size_t max_bytes, std::string* out) {
  switch (codec) {
    case Codec::kNone:
      if (in.size() > max_bytes) return too_large(codec, max_bytes);
      out->assign(in);
      return Status::ok();
    case Codec::kLz4: return lz4_decompress(in, max_bytes, out);
    case Codec::kZstd: return zstd_decompress(in, max_bytes, out);
  }
  return Status(ErrorCode::kCorruptRecord, "unknown codec");
}

}  // namespace rustlog
