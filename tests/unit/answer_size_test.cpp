// protocol/answer_size.h against the encoder: the sizes it computes for
// Fetch and FetchEx answers are exactly the frame payloads encode_response
// writes, for seeded random records (null and empty keys and values,
// headers, values long enough to need multi-byte lengths elsewhere).
#include "protocol/answer_size.h"

#include <gtest/gtest.h>

#include "protocol/codec.h"
#include "protocol/frame.h"
#include "support/record_gen.h"

namespace rustlog::protocol {
namespace {

size_t payload_bytes(const Response& r) {
  std::string out;
  EXPECT_TRUE(encode_response(r, out, 1u << 30).is_ok());
  return out.size() - kFrameHeaderBytes;
}

TEST(AnswerSizeTest, SizesAreExactlyWhatTheEncoderWrites) {
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    SCOPED_TRACE(test::seed_trace(seed));
    test::GenOptions opt;
    opt.max_headers = 3;
    opt.max_value = seed % 5 == 0 ? 70000 : 300;
    test::RecordGen g(seed, opt);
    FetchExResponse fx{7, 1, {}, 99};
    FetchResponse f{{}, 99};
    size_t ex = kFetchExAnswerFixedBytes, v0 = kFetchAnswerFixedBytes;
    for (Record& r : g.records(1'700'000'000'000'000)) {
      size_t hb = 0;
      for (auto& h : r.headers) {
        h.name = std::string(h.name.size(), 'h');  // names are UTF-8 strings on the wire
        hb += h.name.size() + h.value.size();
      }
      ex += fetch_ex_record_bytes(r.key ? std::optional<size_t>(r.key->size()) : std::nullopt,
                                  r.value ? std::optional<size_t>(r.value->size()) : std::nullopt,
                                  r.headers.size(), hb);
      const std::string v = r.value.value_or("");
      v0 += fetch_record_bytes(v.size());
      f.records.push_back(v);
      fx.records.push_back(std::move(r));
    }
    EXPECT_EQ(payload_bytes(fx), ex);
    EXPECT_EQ(payload_bytes(f), v0);
  }
  EXPECT_EQ(max_fetchable_record_bytes(10 * 1024 * 1024), 10u * 1024 * 1024 - 57);
}

}  // namespace
}  // namespace rustlog::protocol
