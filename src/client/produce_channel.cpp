#include "client/produce_channel.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <variant>

#include "common/byte_order.h"

namespace rustlog::client {

namespace {

constexpr size_t kReadChunk = 64 * 1024;
constexpr int kMaxIov = 64;

ClientError io_failure(const std::string& peer, const std::string& what, int err) {
  return ClientError(ErrorSource::kTransport, ErrorCode::kTransport,
                     "connection to " + peer + ": " + what + ": " + std::strerror(err));
}

}  // namespace

ClientResult<std::unique_ptr<ProduceChannel>> ProduceChannel::open(const BrokerAddress& address,
                                                                   const ClientOptions& options,
                                                                   const Compression& compression) {
  auto conn = open_connection(address, options);
  if (!conn) return conn.error();
  uint32_t max_frame = options.max_frame_bytes;
  Compression c = compression;
  if (options.handshake) {
    auto r = conn->call(protocol::HandshakeRequest{options.client_id});
    if (!r) return ClientError::transport(r.status());
    if (auto* h = std::get_if<protocol::HandshakeResponse>(&*r)) {
      if (h->max_frame_bytes > 0) max_frame = std::min(max_frame, h->max_frame_bytes);
      if (std::find(h->supported_types.begin(), h->supported_types.end(), protocol::MessageType::kProduceBatch) ==
          h->supported_types.end())
        c = Compression{};  // an older broker: uncompressed ProduceEx
    }
  }
  return std::unique_ptr<ProduceChannel>(new ProduceChannel(std::move(*conn), options, max_frame, c));
}

ProduceChannel::ProduceChannel(Connection conn, const ClientOptions& options, uint32_t max_frame_bytes,
                               Compression compression)
    : conn_(std::move(conn)),
      request_timeout_(options.request_timeout),
      max_frame_bytes_(max_frame_bytes),
      compression_(compression) {}

void ProduceChannel::push(std::unique_ptr<ProducerBatch> batch) { queue_.push_back(std::move(batch)); }

ClientStatus ProduceChannel::write_some() {
  while (unwritten_ < queue_.size()) {
    iovec iov[kMaxIov];
    int n = 0;
    for (size_t i = unwritten_; i < queue_.size() && n < kMaxIov; ++i, ++n) {
      const std::string& f = queue_[i]->frame;
      const size_t skip = i == unwritten_ ? write_off_ : 0;
      iov[n].iov_base = const_cast<char*>(f.data() + skip);
      iov[n].iov_len = f.size() - skip;
    }
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<size_t>(n);
    const ssize_t w = ::sendmsg(fd(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return {};
      const int err = errno;
      conn_.close();
      return io_failure(peer(), "send", err);
    }
    auto left = static_cast<size_t>(w);
    const auto now = Clock::now();
    while (left > 0) {
      const size_t rest = queue_[unwritten_]->frame.size() - write_off_;
      if (left < rest) {
        write_off_ += left;
        break;
      }
      left -= rest;
      write_off_ = 0;
      ++unwritten_;
      written_at_.push_back(now);
    }
  }
  return {};
}

ClientStatus ProduceChannel::read_some(std::vector<Answer>& answers) {
  for (;;) {
    if (rpos_ > 0 && rpos_ == rbuf_.size()) {
      rbuf_.clear();
      rpos_ = 0;
    }
    const size_t old = rbuf_.size();
    rbuf_.resize(old + kReadChunk);
    const ssize_t got = ::recv(fd(), rbuf_.data() + old, kReadChunk, MSG_DONTWAIT);
    rbuf_.resize(old + (got > 0 ? static_cast<size_t>(got) : 0));
    if (got == 0) {
      conn_.close();
      return ClientError(ErrorSource::kTransport, ErrorCode::kTransport,
                         "connection to " + peer() + " closed by the broker");
    }
    if (got < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      const int err = errno;
      conn_.close();
      return io_failure(peer(), "receive", err);
    }
  }
  while (rbuf_.size() - rpos_ >= protocol::kFrameHeaderBytes) {
    const uint32_t len = get_u32(reinterpret_cast<const uint8_t*>(rbuf_.data() + rpos_));
    if (Status st = protocol::check_frame_length(len, max_frame_bytes_); !st) {
      conn_.close();
      return ClientError(ErrorSource::kTransport, st.code(), "answer from " + peer() + ": " + st.message());
    }
    if (rbuf_.size() - rpos_ < protocol::kFrameHeaderBytes + len) break;
    auto resp = protocol::decode_response(std::string_view(rbuf_).substr(rpos_ + protocol::kFrameHeaderBytes, len));
    rpos_ += protocol::kFrameHeaderBytes + len;
    if (unwritten_ == 0) {
      conn_.close();
      return ClientError(ErrorSource::kTransport, ErrorCode::kInvalidRequest,
                         "answer from " + peer() + " to a request that was not sent");
    }
    if (!resp) {
      conn_.close();
      return ClientError(ErrorSource::kTransport, resp.status().code(),
                         "undecodable answer from " + peer() + ": " + resp.status().message());
    }
    Answer a{std::move(queue_.front()), ClientError::invalid_argument("")};
    queue_.pop_front();
    written_at_.pop_front();
    --unwritten_;
    const std::string where = "produce to " + a.batch->topic() + "/" + std::to_string(a.batch->partition());
    if (auto* ok = std::get_if<protocol::ProduceExResponse>(&*resp)) {
      a.result = *ok;
    } else if (auto* pb = std::get_if<protocol::ProduceBatchResponse>(&*resp)) {
      a.result = protocol::ProduceExResponse{*pb};
    } else if (auto* e = std::get_if<protocol::ErrorResponse>(&*resp)) {
      a.result = ClientError(ErrorSource::kBroker, e->code, where + ": " + e->message);
    } else {
      conn_.close();
      answers.push_back(std::move(a));
      answers.back().result = ClientError(ErrorSource::kTransport, ErrorCode::kInvalidRequest,
                                          std::string("unexpected answer from ") + peer() + ": " +
                                              protocol::message_type_name(protocol::type_of(*resp)) +
                                              " to a produce request");
      return answers.back().result.error();
    }
    answers.push_back(std::move(a));
  }
  return {};
}

Clock::time_point ProduceChannel::answer_deadline() const {
  if (written_at_.empty() || request_timeout_.count() <= 0) return Clock::time_point::max();
  return written_at_.front() + request_timeout_;
}

ProduceChannel::Leftovers ProduceChannel::take_all() {
  Leftovers out;
  const size_t sent = unwritten_ + (write_off_ > 0 ? 1 : 0);
  for (size_t i = 0; i < queue_.size(); ++i) (i < sent ? out.sent : out.unsent).push_back(std::move(queue_[i]));
  queue_.clear();
  written_at_.clear();
  unwritten_ = write_off_ = 0;
  conn_.close();
  return out;
}

std::vector<std::unique_ptr<ProducerBatch>> ProduceChannel::take_unwritten(const std::string& topic,
                                                                          uint32_t partition) {
  std::vector<std::unique_ptr<ProducerBatch>> out;
  const size_t first = unwritten_ + (write_off_ > 0 ? 1 : 0);
  for (size_t i = first; i < queue_.size();) {
    if (queue_[i]->partition() == partition && queue_[i]->topic() == topic) {
      out.push_back(std::move(queue_[i]));
      queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      ++i;
    }
  }
  return out;
}

}  // namespace rustlog::client
