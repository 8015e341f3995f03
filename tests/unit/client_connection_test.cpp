// client::Connection against a scripted in-process TCP peer: framing across
// arbitrary splits, pipelining, timeouts that keep the connection usable, and
// every way a peer can end or corrupt the stream.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "client/connection.h"
#include "common/byte_order.h"

namespace rustlog::client {
namespace {

using namespace protocol;
using namespace std::chrono_literals;

std::string frame_of(const Response& r) {
  std::string out;
  EXPECT_TRUE(encode_response(r, out));
  return out;
}

void write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

// Reads exactly n bytes (or fewer at end of stream).
std::string read_n(int fd, size_t n) {
  std::string out;
  char buf[4096];
  while (out.size() < n) {
    const ssize_t got = ::recv(fd, buf, std::min(sizeof buf, n - out.size()), 0);
    if (got <= 0) break;
    out.append(buf, static_cast<size_t>(got));
  }
  return out;
}

// Accepts one connection and runs `script` on it in a thread.
class Peer {
 public:
  explicit Peer(std::function<void(int fd)> script) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(listen_fd_, 4), 0);
    socklen_t len = sizeof a;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this, script = std::move(script)] {
      const int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      script(fd);
      ::close(fd);
    });
  }
  ~Peer() {
    thread_.join();
    ::close(listen_fd_);
  }
  uint16_t port() const { return port_; }

  Connection connect(std::chrono::milliseconds io_timeout = 5s) {
    ConnectOptions o;
    o.io_timeout = io_timeout;
    auto c = Connection::connect("127.0.0.1", port_, o);
    EXPECT_TRUE(c) << c.status().to_string();
    return std::move(*c);
  }

 private:
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
};

TEST(ClientConnectionTest, CallEncodesTheRequestAndDecodesTheResponse) {
  Peer peer([](int fd) {
    std::string want;
    ASSERT_TRUE(encode_request(ProduceRequest{"t", 0, {"hi"}}, want));
    EXPECT_EQ(read_n(fd, want.size()), want);
    write_all(fd, frame_of(ProduceResponse{7, 1}));
  });
  auto c = peer.connect();
  auto r = c.call(ProduceRequest{"t", 0, {"hi"}});
  ASSERT_TRUE(r) << r.status().to_string();
  EXPECT_EQ(std::get<ProduceResponse>(*r), (ProduceResponse{7, 1}));
  EXPECT_EQ(c.last_failure(), Failure::kNone);
}

TEST(ClientConnectionTest, FramesSplitAtEveryByteAndCoalescedAreReassembled) {
  const std::string a = frame_of(PongResponse{});
  const std::string b = frame_of(FetchResponse{{"x", std::string(5000, 'y')}, 2});
  const std::string c3 = frame_of(ErrorResponse{ErrorCode::kTopicNotFound, "no topic t"});
  Peer peer([&](int fd) {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    for (char ch : a + b) {  // one byte at a time
      write_all(fd, std::string_view(&ch, 1));
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
    write_all(fd, c3 + a);  // two frames in one write
  });
  auto c = peer.connect();
  EXPECT_TRUE(std::holds_alternative<PongResponse>(*c.receive()));
  EXPECT_EQ(std::get<FetchResponse>(*c.receive()).records[1].size(), 5000u);
  auto e = c.receive();
  ASSERT_TRUE(e);
  EXPECT_EQ(std::get<ErrorResponse>(*e).code, ErrorCode::kTopicNotFound);  // an Error is a response, not a failure
  EXPECT_TRUE(std::holds_alternative<PongResponse>(*c.receive()));
}

TEST(ClientConnectionTest, PipelinedSendsThenReceives) {
  Peer peer([](int fd) {
    std::string one;
    ASSERT_TRUE(encode_request(PingRequest{}, one));
    EXPECT_EQ(read_n(fd, one.size() * 100), [&] {
      std::string all;
      for (int i = 0; i < 100; ++i) all += one;
      return all;
    }());
    std::string out;
    for (uint64_t i = 0; i < 100; ++i) out += frame_of(ProduceResponse{i, 1});
    write_all(fd, out);
  });
  auto c = peer.connect();
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(c.send(PingRequest{}));
  for (uint64_t i = 0; i < 100; ++i) EXPECT_EQ(std::get<ProduceResponse>(*c.receive()).base_offset, i);
  EXPECT_EQ(c.buffered_bytes(), 0u);
}

TEST(ClientConnectionTest, ReceiveTimeoutKeepsTheConnectionAndItsPartialFrame) {
  const std::string f = frame_of(DescribePartitionResponse{"t", 3, 42});
  Peer peer([&](int fd) {
    write_all(fd, f.substr(0, 7));  // part of the frame, then a pause
    std::this_thread::sleep_for(400ms);
    write_all(fd, f.substr(7));
  });
  auto c = peer.connect(100ms);
  auto r = c.receive();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().code(), ErrorCode::kTransport);
  EXPECT_EQ(c.last_failure(), Failure::kTimeout);
  EXPECT_TRUE(c.is_open());
  EXPECT_EQ(c.buffered_bytes(), 7u);
  ASSERT_TRUE(c.set_io_timeout(5s));
  r = c.receive();
  ASSERT_TRUE(r) << r.status().to_string();
  EXPECT_EQ(std::get<DescribePartitionResponse>(*r), (DescribePartitionResponse{"t", 3, 42}));
}

TEST(ClientConnectionTest, PeerClosingMidFrameIsAClosedFailure) {
  Peer peer([](int fd) { write_all(fd, std::string("\x00\x00\x00\x10\x08", 5)); });
  auto c = peer.connect();
  auto r = c.receive();
  ASSERT_FALSE(r);
  EXPECT_EQ(c.last_failure(), Failure::kClosed);
  EXPECT_TRUE(c.peer_closed());
  EXPECT_FALSE(c.is_open());
  EXPECT_NE(r.status().message().find("middle of a frame"), std::string::npos) << r.status().message();
  // Every later call fails the same way.
  EXPECT_FALSE(c.send(PingRequest{}));
  EXPECT_FALSE(c.receive());
}

TEST(ClientConnectionTest, BadFrameLengthsAndUndecodablePayloadsCloseTheConnection) {
  struct Case {
    std::string bytes;
    ErrorCode code;
  };
  const Case cases[] = {
      {std::string("\x00\x00\x00\x00", 4), ErrorCode::kInvalidRequest},     // length 0
      {std::string("\x00\xa0\x00\x01", 4), ErrorCode::kTooLarge},           // above 10 MiB
      {std::string("\x00\x00\x00\x02\x03\x07", 6), ErrorCode::kInvalidRequest},  // bool 7
      {std::string("\x00\x00\x00\x01\x42", 5), ErrorCode::kInvalidRequest},      // unknown type
  };
  for (const auto& k : cases) {
    Peer peer([&](int fd) {
      write_all(fd, k.bytes);
      std::this_thread::sleep_for(50ms);
    });
    auto c = peer.connect();
    auto r = c.receive();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.status().code(), k.code) << r.status().to_string();
    EXPECT_EQ(c.last_failure(), Failure::kProtocol);
    EXPECT_FALSE(c.is_open());
  }
}

TEST(ClientConnectionTest, UnencodableRequestSendsNothingAndKeepsTheConnection) {
  Peer peer([](int fd) {
    std::string ping;
    ASSERT_TRUE(encode_request(PingRequest{}, ping));
    EXPECT_EQ(read_n(fd, ping.size()), ping);  // the first bytes are the Ping's
    write_all(fd, frame_of(PongResponse{}));
  });
  auto c = peer.connect();
  Status st = c.send(DescribeTopicRequest{std::string(70'000, 't')});  // string over 65,535 bytes
  EXPECT_FALSE(st);
  EXPECT_EQ(c.last_failure(), Failure::kProtocol);
  EXPECT_TRUE(c.is_open());
  auto r = c.call(PingRequest{});
  ASSERT_TRUE(r) << r.status().to_string();
  EXPECT_TRUE(std::holds_alternative<PongResponse>(*r));
}

TEST(ClientConnectionTest, WaitForCloseAndReadExact) {
  Peer peer([](int fd) {
    write_all(fd, "abcdef");
    std::this_thread::sleep_for(200ms);
  });
  auto c = peer.connect();
  auto r = c.read_exact(4);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "abcd");
  EXPECT_FALSE(c.wait_for_close(50ms));  // still open
  EXPECT_TRUE(c.wait_for_close(5s));     // remaining bytes discarded, then the close
  EXPECT_TRUE(c.peer_closed());
}

TEST(ClientConnectionTest, ConnectFailuresAreStatuses) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);  // a port nobody listens on
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  auto c = Connection::connect("127.0.0.1", ntohs(a.sin_port));
  ::close(fd);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.status().code(), ErrorCode::kTransport);
  EXPECT_NE(c.status().message().find("127.0.0.1:"), std::string::npos) << c.status().message();
}

TEST(ClientConnectionTest, MovedConnectionKeepsWorking) {
  Peer peer([](int fd) {
    (void)read_n(fd, 5);
    write_all(fd, frame_of(PongResponse{}));
  });
  auto a = peer.connect();
  Connection b = std::move(a);
  EXPECT_FALSE(a.is_open());  // NOLINT(bugprone-use-after-move): moved-from is closed
  auto r = b.call(PingRequest{});
  ASSERT_TRUE(r) << r.status().to_string();
  EXPECT_TRUE(std::holds_alternative<PongResponse>(*r));
}

}  // namespace
}  // namespace rustlog::client
