#pragma once
// The Prometheus endpoint ([site] metrics-listen): HTTP/1.1 on TCP, one
// request per connection, served on the control thread's io_context. The
// answer is rendered there too, from counters the data plane only ever
// writes (relaxed atomics, read without a lock), so a scrape never holds up
// a packet and costs the control thread one rendering.
//
// Anyone who can reach the port can misbehave, so:
//   - only GET /metrics is answered (404 for another path, 405 for another
//     method, 400 for what is not HTTP, 431 for a header over Limits::header_bytes);
//   - a connection has Limits::timeout to send its request and take the
//     answer (Beast's tcp_stream deadline): an idle or slow one is closed;
//   - at most Limits::connections are open; one more closes the oldest that
//     has not sent its request yet;
//   - requests are logged at debug level only; what was refused is counted.

#include "net/ip_address.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>

namespace mesh::metrics {

class MetricsServer {
public:
    // The exposition text (exposition.hpp), rendered for each scrape.
    using Render = std::function<std::string()>;

    struct Limits {
        std::size_t connections = 4;
        std::chrono::milliseconds timeout = std::chrono::seconds(5);
        std::uint32_t header_bytes = 8192;
    };

    struct Counters {
        std::uint64_t scrapes = 0;      // GET /metrics answered
        std::uint64_t refused = 0;      // answered 400, 404, 405 or 431
        std::uint64_t timed_out = 0;    // closed at Limits::timeout
        std::uint64_t over_limit = 0;   // closed for a newer one beyond Limits::connections
    };

    // Throws std::system_error when the address cannot be bound.
    MetricsServer(boost::asio::io_context& io, const net::Endpoint& listen, Render render, Limits limits);
    MetricsServer(boost::asio::io_context& io, const net::Endpoint& listen, Render render)
        : MetricsServer(io, listen, std::move(render), Limits{})
    {
    }
    ~MetricsServer();
    MetricsServer(const MetricsServer&) = delete;
    MetricsServer& operator=(const MetricsServer&) = delete;

    [[nodiscard]] net::Endpoint local() const;
    [[nodiscard]] const Counters& counters() const noexcept { return counters_; }
    [[nodiscard]] std::size_t open_connections() const noexcept { return sessions_.size(); }

private:
    class Session;

    void accept();
    void admit(boost::asio::ip::tcp::socket socket);

    Render render_;
    Limits limits_;
    boost::asio::ip::tcp::acceptor acceptor_;
    std::list<std::shared_ptr<Session>> sessions_;   // oldest first
    boost::asio::steady_timer accept_pause_timer_;
    Counters counters_;
};

} // namespace mesh::metrics
