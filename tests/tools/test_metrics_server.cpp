// The metrics port against clients that behave and clients that do not:
// on 127.0.0.1, port chosen by the kernel; the server runs its io_context on
// a thread of its own, the client is plain blocking sockets. No root needed.

#include "tools/metrics/metrics_server.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <doctest/doctest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

using namespace mesh;
using namespace std::chrono_literals;

namespace {
class Fixture {
public:
    explicit Fixture(metrics::MetricsServer::Limits limits = {})
        : server_(io_, {*net::IpAddress::parse("127.0.0.1"), 0}, [this] {
              ++renders;
              return std::string("# HELP m h\n# TYPE m gauge\nm 1\n");
          }, limits)
    {
        port = server_.local().port;
        thread_ = std::thread([this] {
            auto guard = boost::asio::make_work_guard(io_);
            io_.run();
        });
    }
    ~Fixture()
    {
        io_.stop();
        thread_.join();
    }

    [[nodiscard]] metrics::MetricsServer::Counters counters()
    {
        // Read on the server's thread, where they are written.
        std::promise<metrics::MetricsServer::Counters> got;
        boost::asio::post(io_, [&] { got.set_value(server_.counters()); });
        return got.get_future().get();
    }

    std::atomic<int> renders{0};
    std::uint16_t port = 0;

private:
    boost::asio::io_context io_;
    metrics::MetricsServer server_;
    std::thread thread_;
};

int connect_to(std::uint16_t port)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) == 0);
    timeval timeout{.tv_sec = 10, .tv_usec = 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    return fd;
}

// Everything the server sends until it closes.
std::string read_all(int fd)
{
    std::string got;
    char buffer[4096];
    ssize_t n = 0;
    while ((n = ::read(fd, buffer, sizeof buffer)) > 0)
        got.append(buffer, static_cast<std::size_t>(n));
    ::close(fd);
    return got;
}

std::string ask(std::uint16_t port, const std::string& request)
{
    const int fd = connect_to(port);
    // A peer that closes early may refuse the rest of an oversized request.
    (void)::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    return read_all(fd);
}

std::string status_line(const std::string& answer)
{
    return answer.substr(0, answer.find("\r\n"));
}
} // namespace

TEST_CASE("metrics server: GET /metrics is answered with the exposition format and closed")
{
    Fixture f;
    const auto answer = ask(f.port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(status_line(answer) == "HTTP/1.1 200 OK");
    CHECK(answer.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n") != std::string::npos);
    CHECK(answer.ends_with("\r\n\r\n# HELP m h\n# TYPE m gauge\nm 1\n"));
    CHECK(status_line(ask(f.port, "GET /metrics?name[]=m HTTP/1.0\r\n\r\n")) == "HTTP/1.1 200 OK");
    CHECK(f.renders == 2);
    CHECK(f.counters().scrapes == 2);
}

TEST_CASE("metrics server: another path 404, another method 405, not HTTP 400, a huge header 431; none rendered")
{
    Fixture f;
    CHECK(status_line(ask(f.port, "GET / HTTP/1.1\r\n\r\n")) == "HTTP/1.1 404 Not Found");
    CHECK(status_line(ask(f.port, "GET /metricsx HTTP/1.1\r\n\r\n")) == "HTTP/1.1 404 Not Found");
    const auto post = ask(f.port, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    CHECK(status_line(post) == "HTTP/1.1 405 Method Not Allowed");
    CHECK(post.find("Allow: GET\r\n") != std::string::npos);
    CHECK(status_line(ask(f.port, "\x16\x03\x01\x02\xfc\x03\x03\r\n\r\n")) ==
          "HTTP/1.1 400 Bad Request");
    CHECK(status_line(ask(f.port, "GET /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello")) ==
          "HTTP/1.1 400 Bad Request");
    CHECK(status_line(ask(f.port, "GET /metrics HTTP/1.1\r\nX: " + std::string(20000, 'a') + "\r\n\r\n")) ==
          "HTTP/1.1 431 Request Header Fields Too Large");
    CHECK(f.renders == 0);
    CHECK(f.counters().refused == 6);
}

TEST_CASE("metrics server: connections beyond the cap close the oldest idle one; a scrape still gets through")
{
    Fixture f({.connections = 3, .timeout = 10s, .header_bytes = 8192});
    std::vector<int> idle;
    for (int i = 0; i < 3; ++i)
        idle.push_back(connect_to(f.port));
    CHECK(status_line(ask(f.port, "GET /metrics HTTP/1.1\r\n\r\n")) == "HTTP/1.1 200 OK");
    // The first idle one made room for the scrape: the server closed it without a word.
    char byte = 0;
    CHECK(::read(idle[0], &byte, 1) == 0);
    for (const int fd : idle)
        ::close(fd);
    CHECK(f.counters().over_limit == 1);
}

TEST_CASE("metrics server: a connection that sends nothing, or half a request, is closed at its deadline")
{
    Fixture f({.connections = 4, .timeout = 300ms, .header_bytes = 8192});
    const auto start = std::chrono::steady_clock::now();
    const int silent = connect_to(f.port);
    const int half = connect_to(f.port);
    (void)::send(half, "GET /metrics HTTP/1.1\r\nHost:", 28, MSG_NOSIGNAL);
    CHECK(read_all(silent).empty());
    CHECK(read_all(half).empty());
    const auto waited = std::chrono::steady_clock::now() - start;
    CHECK(waited >= 250ms);
    CHECK(waited < 5s);
    CHECK(f.counters().timed_out == 2);
    CHECK(f.renders == 0);
}
