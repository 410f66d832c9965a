// The control socket server (tools/daemon/control_server.hpp) and the CLI's
// client (tools/cli/control_client.hpp) over real Unix sockets in a temporary
// folder: garbage, half lines, idle floods and a shortage of descriptors
// neither stop nor stall it, and each trouble is logged once.

#include "tools/cli/control_client.hpp"
#include "tools/daemon/control_server.hpp"
#include "tools/log/log.hpp"

#include <doctest/doctest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <functional>
#include <sstream>
#include <thread>
#include <vector>

using namespace mesh::daemon;
using namespace std::chrono_literals;
using namespace std::string_literals;

namespace {

std::filesystem::path fresh_socket_path()
{
    static std::atomic<int> next{0};
    const auto dir = std::filesystem::temp_directory_path() /
                     ("mesh-control-test-" + std::to_string(::getpid()) + "-" + std::to_string(next++));
    std::filesystem::create_directories(dir);
    return dir / "control.sock";
}

nlohmann::json status_of(const Request& request)
{
    return {{"answer", request_line(request)}};
}

// A raw, non-blocking client: sends any bytes, collects what comes back.
class RawClient {
public:
    explicit RawClient(const std::filesystem::path& path)
        : fd_(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0))
    {
        REQUIRE(fd_ >= 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
        // EAGAIN: the listen queue is full until the server's thread accepts.
        const auto deadline = std::chrono::steady_clock::now() + 2s;
        while (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
            REQUIRE(errno == EAGAIN);
            REQUIRE(std::chrono::steady_clock::now() < deadline);
            std::this_thread::sleep_for(1ms);
        }
    }
    ~RawClient() { ::close(fd_); }
    RawClient(const RawClient&) = delete;
    RawClient& operator=(const RawClient&) = delete;

    // As much of bytes as the socket takes now.
    void send(std::string_view bytes)
    {
        while (!bytes.empty()) {
            const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n <= 0)
                return;
            bytes.remove_prefix(static_cast<std::size_t>(n));
        }
    }

    void end_writing() { ::shutdown(fd_, SHUT_WR); }

    // Reads what has arrived; true once the server closed the connection.
    bool closed()
    {
        char buffer[4096];
        while (!closed_) {
            const auto n = ::recv(fd_, buffer, sizeof buffer, 0);
            if (n > 0)
                received_.append(buffer, static_cast<std::size_t>(n));
            else if (n == 0 || errno == ECONNRESET)
                closed_ = true;
            else
                break;
        }
        return closed_;
    }

    [[nodiscard]] const std::string& received() const { return received_; }

private:
    int fd_;
    std::string received_;
    bool closed_ = false;
};

// Runs io in this thread until done() or the time is up; returns done().
bool run_until(boost::asio::io_context& io, const std::function<bool()>& done,
               std::chrono::milliseconds limit = 3000ms)
{
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() >= deadline)
            return false;
        io.restart();
        io.run_for(5ms);
    }
    return true;
}

// The daemon topic's lines while it lives, in a string.
class LogCapture {
public:
    LogCapture() : sink_(std::make_shared<spdlog::sinks::ostream_sink_mt>(lines_))
    {
        mesh::log::daemon()->sinks().push_back(sink_);
    }
    ~LogCapture()
    {
        auto& sinks = mesh::log::daemon()->sinks();
        sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_), sinks.end());
    }
    [[nodiscard]] std::size_t count(const std::string& text) const
    {
        const auto all = lines_.str();
        std::size_t n = 0;
        for (auto at = all.find(text); at != std::string::npos; at = all.find(text, at + 1))
            ++n;
        return n;
    }

private:
    std::ostringstream lines_;
    std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
};

} // namespace

TEST_CASE("garbage on the control socket is answered with an error object, and the next request is answered")
{
    boost::asio::io_context io;
    const auto path = fresh_socket_path();
    ControlServer server(io, path, status_of);

    const std::string garbage[] = {"\xff\n", "\0\0\0\n"s, "status\0\n"s, std::string(1 << 20, 'x') + "\n",
                                   "rekey ike caf\xe9\n", "\n", "\r\n", "rekey ike \n", "nonsense\n"};
    for (const auto& bytes : garbage) {
        CAPTURE(printable(bytes, 16));
        RawClient client(path);
        client.send(bytes);
        REQUIRE(run_until(io, [&] { return client.closed(); }));
        const auto json = nlohmann::json::parse(client.received());
        CHECK(json.contains("error"));
    }
    RawClient client(path);
    client.send("status\r\nkeys\nkeys\n");
    REQUIRE(run_until(io, [&] { return client.closed(); }));
    CHECK(client.received() == "{\"answer\":\"status\"}\n");
    CHECK(server.open_connections() == 0);
    CHECK(server.counters().answered == std::size(garbage) + 1);
}

TEST_CASE("a request ended by the end of the client's writing, without a newline, is answered")
{
    boost::asio::io_context io;
    const auto path = fresh_socket_path();
    ControlServer server(io, path, status_of);
    RawClient client(path);
    client.send("keys");
    client.end_writing();
    REQUIRE(run_until(io, [&] { return client.closed(); }));
    CHECK(client.received() == "{\"answer\":\"keys\"}\n");
}

TEST_CASE("a half-written request held open is closed after the timeout, logged once")
{
    LogCapture log;
    boost::asio::io_context io;
    const auto path = fresh_socket_path();
    ControlServer::Limits limits;
    limits.timeout = 200ms;
    limits.quiet = 300ms;
    ControlServer server(io, path, status_of, limits);
    RawClient first(path);
    RawClient second(path);
    first.send("sta");
    REQUIRE(run_until(io, [&] { return first.closed() && second.closed(); }));
    CHECK(first.received().empty());
    CHECK(server.counters().timed_out == 2);
    CHECK(log.count("took no answer within 200 ms") == 1);
    REQUIRE(run_until(io, [&] { return log.count("quiet again") == 1; }));
    CHECK(log.count("0 connection(s) closed over the limit of 32, 2 timed out, 0 failed accept(s)") == 1);
}

TEST_CASE("beyond the connection limit the oldest idle connection is closed, and a new request is still answered")
{
    LogCapture log;
    boost::asio::io_context io;
    const auto path = fresh_socket_path();
    ControlServer::Limits limits;
    limits.connections = 4;
    limits.backlog = 64;   // the 51 clients below connect before the server accepts any
    limits.quiet = 200ms;
    ControlServer server(io, path, status_of, limits);
    std::vector<std::unique_ptr<RawClient>> idle;
    for (int i = 0; i < 50; ++i)
        idle.push_back(std::make_unique<RawClient>(path));
    RawClient asking(path);
    asking.send("status\n");
    REQUIRE(run_until(io, [&] { return asking.closed(); }));
    CHECK(asking.received() == "{\"answer\":\"status\"}\n");
    CHECK(server.open_connections() <= 4);
    CHECK(server.counters().over_limit == 47);
    CHECK(log.count("4 connections open, the limit") == 1);
    std::size_t closed = 0;
    for (auto& client : idle)
        closed += client->closed() ? 1 : 0;
    CHECK(closed == 47);
    idle.clear();
    REQUIRE(run_until(io, [&] { return log.count("quiet again") == 1; }));
    CHECK(log.count("47 connection(s) closed over the limit of 4") == 1);
    CHECK(log.count("the limit:") == 1);
}

TEST_CASE("accept failing for want of descriptors is tried again after a pause, not at once")
{
    LogCapture log;
    boost::asio::io_context io;
    const auto path = fresh_socket_path();
    ControlServer server(io, path, status_of);
    RawClient client(path);
    client.send("status\n");

    // Use up the descriptors under a low limit, so the server's accept fails with EMFILE.
    rlimit old{};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &old) == 0);
    rlimit low = old;
    low.rlim_cur = 256;
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);
    std::vector<int> filler;
    for (int fd; (fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;)
        filler.push_back(fd);
    const auto start = std::chrono::steady_clock::now();
    run_until(io, [] { return false; }, 500ms);
    const auto failures = server.counters().accept_failures;
    for (const int fd : filler)
        ::close(fd);
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &old) == 0);

    // 100, 200, 400 ms pauses: about 3 tries in 0.5 s, not thousands.
    CHECK(failures >= 1);
    CHECK(failures <= 5);
    CHECK(log.count("accept failed") == 1);
    REQUIRE(run_until(io, [&] { return client.closed(); }));
    CHECK(client.received() == "{\"answer\":\"status\"}\n");
    CHECK(std::chrono::steady_clock::now() - start < 3s);
}

TEST_CASE("the CLI is answered while thousands of idle connections arrive")
{
    boost::asio::io_context io;
    const auto path = fresh_socket_path();
    ControlServer server(io, path, status_of);
    auto work = boost::asio::make_work_guard(io);
    std::thread control([&] { io.run(); });
    std::vector<std::unique_ptr<RawClient>> idle;
    for (int i = 0; i < 2000; ++i) {
        idle.push_back(std::make_unique<RawClient>(path));
        if (i % 500 == 0) {
            const auto started = std::chrono::steady_clock::now();
            const auto answer = mesh::cli::request(path, StatusRequest{}, 2000ms);
            CHECK(answer == nlohmann::json{{"answer", "status"}});
            CHECK(std::chrono::steady_clock::now() - started < 1s);
        }
    }
    work.reset();
    io.stop();
    control.join();
    CHECK(server.open_connections() <= 32);
}

TEST_CASE("the CLI gives up with a clear error when the daemon does not answer")
{
    const auto path = fresh_socket_path();
    // Listening, with a queue, but nothing ever accepts: connect and write succeed, no answer comes.
    const int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
    REQUIRE(::bind(listener, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::listen(listener, 1) == 0);

    for (int attempt = 0; attempt < 3; ++attempt) {   // the later ones find the queue full
        CAPTURE(attempt);
        const auto started = std::chrono::steady_clock::now();
        CHECK_THROWS(mesh::cli::request(path, StatusRequest{}, 300ms));
        CHECK(std::chrono::steady_clock::now() - started < 2s);
    }
    try {
        (void)mesh::cli::request(path, StatusRequest{}, 300ms);
    } catch (const std::runtime_error& error) {
        CHECK(std::string(error.what()).find(path.string()) != std::string::npos);
    }
    ::close(listener);

    CHECK_THROWS_WITH(mesh::cli::request(path.parent_path() / "nobody.sock", StatusRequest{}, 300ms),
                      doctest::Contains("cannot reach the daemon"));
}

TEST_CASE("the CLI sends its request again when the daemon closed the connection before reading it")
{
    const auto path = fresh_socket_path();
    const int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
    REQUIRE(::bind(listener, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::listen(listener, 4) == 0);
    // As the server does to the oldest silent connection in a flood: closed unread.
    std::thread daemon([listener] {
        ::close(::accept(listener, nullptr, nullptr));
        const int second = ::accept(listener, nullptr, nullptr);
        char request[64];
        std::size_t got = 0;
        while (got == 0 || request[got - 1] != '\n') {
            const auto n = ::read(second, request + got, sizeof request - got);
            if (n <= 0)
                break;
            got += static_cast<std::size_t>(n);
        }
        const std::string answer = std::string("{\"answer\":\"") + std::string(request, got - 1) + "\"}\n";
        (void)!::write(second, answer.data(), answer.size());
        ::close(second);
    });
    const auto answer = mesh::cli::request(path, KeysRequest{}, 2000ms);
    daemon.join();
    ::close(listener);
    CHECK(answer == nlohmann::json{{"answer", "keys"}});
}
