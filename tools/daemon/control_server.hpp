#pragma once
// The control socket: a Unix stream socket (mode 0600, it can export keys)
// where `mesh-site status`, `keys` and `rekey` send one request line and
// read one JSON document back (the protocol: control_request.hpp).
//
// Whoever may connect can also misbehave: hold connections open without a
// word, send half a line, or open thousands at once. None of it may stall
// the control thread or use up the daemon's descriptors:
//   - at most Limits::connections are open; a new one beyond that closes the
//     oldest that has not sent its request yet, so a client that asks at once
//     (the CLI) is answered while idle connections keep arriving;
//   - the kernel queues at most Limits::backlog connections not accepted yet
//     (not SOMAXCONN's 4096): accepting is first come, first served, and a
//     client should not wait behind thousands of idle ones. A blocking
//     connect (the CLI's) waits for room in the queue;
//   - a connection has Limits::timeout to send its line and take its answer;
//   - an accept that fails (no descriptors left, no memory) is tried again
//     after a pause that doubles up to a second, never at once;
//   - each of these is logged once, when it first happens, and then as
//     counts in one line when the socket has been quiet for Limits::quiet.

#include "tools/daemon/control_request.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <list>
#include <memory>

namespace mesh::daemon {

class ControlServer {
public:
    using Handler = RequestHandler;

    struct Limits {
        std::size_t connections = 32;
        int backlog = 32;
        std::chrono::milliseconds timeout = std::chrono::seconds(3);
        std::chrono::milliseconds first_accept_pause = std::chrono::milliseconds(100);
        std::chrono::milliseconds quiet = std::chrono::seconds(10);
    };

    // Since start; the log's counts are per quiet period.
    struct Counters {
        std::uint64_t answered = 0;
        std::uint64_t over_limit = 0;        // closed because Limits::connections were open
        std::uint64_t timed_out = 0;
        std::uint64_t accept_failures = 0;
    };

    // Throws std::system_error if the socket cannot be created.
    ControlServer(boost::asio::io_context& io, std::filesystem::path path, Handler handler, Limits limits);
    ControlServer(boost::asio::io_context& io, std::filesystem::path path, Handler handler)
        : ControlServer(io, std::move(path), std::move(handler), Limits{})
    {
    }
    ~ControlServer();
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

    [[nodiscard]] const Counters& counters() const noexcept { return counters_; }
    [[nodiscard]] std::size_t open_connections() const noexcept { return sessions_.size(); }

private:
    class Session;
    enum class Trouble { over_limit, timed_out, accept_failed };

    void accept();
    void admit(boost::asio::local::stream_protocol::socket socket);
    void forget(std::list<std::shared_ptr<Session>>::iterator session);
    void on_accept_failed(const boost::system::error_code& error);
    void note(Trouble trouble, const std::string& detail = {});
    void report_when_quiet(std::chrono::steady_clock::duration wait);

    std::filesystem::path path_;
    Handler handler_;
    Limits limits_;
    boost::asio::local::stream_protocol::acceptor acceptor_;
    std::list<std::shared_ptr<Session>> sessions_;   // oldest first
    boost::asio::steady_timer accept_pause_timer_;
    std::chrono::milliseconds accept_pause_;
    Counters counters_;
    // Troubles since the socket was last quiet: counted, reported together.
    std::array<std::uint64_t, 3> troubles_{};
    std::chrono::steady_clock::time_point troubled_since_;
    std::chrono::steady_clock::time_point last_trouble_;
    bool reporting_ = false;
    boost::asio::steady_timer quiet_timer_;
};

} // namespace mesh::daemon
