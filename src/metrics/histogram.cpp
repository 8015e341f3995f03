#include "metrics/histogram.h"

namespace rustlog::metrics {

uint64_t HistogramSnapshot::count() const {
  uint64_t n = 0;
  for (uint64_t c : counts) n += c;
  return n;
}

std::vector<uint64_t> HistogramSnapshot::cumulative() const {
  std::vector<uint64_t> out(counts.size());
  uint64_t run = 0;
  for (size_t i = 0; i < counts.size(); ++i) out[i] = run += counts[i];
  return out;
}

void HistogramSnapshot::record(uint64_t v, uint64_t times) {
  counts[layout.index(v)] += times;
  sum += v * times;
}

bool HistogramSnapshot::merge(const HistogramSnapshot& other) {
  if (counts.empty() && sum == 0) {
    *this = other;
    return true;
  }
  if (other.counts.empty()) return true;
  if (!(layout == other.layout) || counts.size() != other.counts.size()) return false;
  for (size_t i = 0; i < counts.size(); ++i) counts[i] += other.counts[i];
  sum += other.sum;
  return true;
}

HistogramSnapshot HistogramSnapshot::since(const HistogramSnapshot& earlier) const {
  HistogramSnapshot out = *this;
  if (!(layout == earlier.layout) || counts.size() != earlier.counts.size()) return out;
  for (size_t i = 0; i < counts.size(); ++i) out.counts[i] = counts[i] > earlier.counts[i] ? counts[i] - earlier.counts[i] : 0;
  out.sum = sum > earlier.sum ? sum - earlier.sum : 0;
  return out;
}

double HistogramSnapshot::quantile(double q) const {
  const uint64_t n = count();
  if (n == 0) return 0;
  if (q < 0) q = 0;
  if (q > 1) q = 1;
  // The rank (1-based) of the order statistic asked for.
  uint64_t rank = static_cast<uint64_t>(q * static_cast<double>(n));
  if (static_cast<double>(rank) < q * static_cast<double>(n)) ++rank;  // ceil
  if (rank == 0) rank = 1;
  uint64_t before = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    if (counts[i] == 0 || before + counts[i] < rank) {
      before += counts[i];
      continue;
    }
    if (i + 1 == counts.size()) return static_cast<double>(layout.max());  // overflow bucket
    const double lo = static_cast<double>(layout.lower_bound(i));
    const double hi = static_cast<double>(layout.upper_bound(i));
    return lo + (hi - lo) * static_cast<double>(rank - before) / static_cast<double>(counts[i]);
  }
  return static_cast<double>(layout.max());
}

}  // namespace rustlog::metrics
