#include "tools/cli/control_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <sys/socket.h>
#include <sys/time.h>

#include <iterator>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <thread>

namespace mesh::cli {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;

namespace {

// Connects within timeout. A Unix socket's connect blocks while the
// daemon's queue of connections not yet accepted is full, and is woken
// when the daemon accepts one: the CLI gets its turn among a flood of idle
// connections (which use non-blocking connects and retry). SO_SNDTIMEO
// bounds that wait; it ends in EAGAIN.
void connect_within(local::socket& stream, const std::filesystem::path& socket, std::chrono::milliseconds timeout)
{
    const local::endpoint endpoint(socket.string());
    stream.open(endpoint.protocol());
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(timeout);
    const timeval limit{static_cast<time_t>(seconds.count()),
                        static_cast<suseconds_t>(std::chrono::microseconds(timeout - seconds).count())};
    if (::setsockopt(stream.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit) != 0)
        throw std::system_error(errno, std::generic_category(), "setting a timeout on a socket");
    if (::connect(stream.native_handle(), endpoint.data(), static_cast<socklen_t>(endpoint.size())) == 0)
        return;
    const std::error_code error(errno, std::generic_category());
    if (error == std::errc::connection_refused || error == std::errc::no_such_file_or_directory)
        throw std::runtime_error("cannot reach the daemon at " + socket.string() + ": " + error.message() +
                                 " (is `mesh-site run` running with this configuration?)");
    if (error == std::errc::resource_unavailable_try_again)
        throw std::runtime_error("the daemon at " + socket.string() + " accepted no connection within " +
                                 std::to_string(timeout.count()) + " ms (its queue of connections stayed full)");
    throw std::runtime_error("connecting to the daemon at " + socket.string() + ": " + error.message());
}

// One exchange: the answer's text, or nothing when the daemon closed the
// connection before the request reached it. It does that to the oldest
// connection that has sent nothing when too many are open: a flood of idle
// connections, with this command descheduled between connect and write.
std::optional<std::string> exchange(const std::filesystem::path& socket, const std::string& line,
                                    std::chrono::steady_clock::time_point deadline, std::chrono::milliseconds timeout)
{
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left <= std::chrono::milliseconds(0))
        throw std::runtime_error("the daemon at " + socket.string() + " did not answer within " +
                                 std::to_string(timeout.count()) + " ms");
    asio::io_context io;
    local::socket stream(io);
    connect_within(stream, socket, left);
    asio::streambuf answer(max_answer);
    std::string step = "sending the request to";
    std::optional<boost::system::error_code> outcome;
    asio::async_write(stream, asio::buffer(line), [&](const boost::system::error_code& written, std::size_t) {
        if (written) {
            outcome = written;
            return;
        }
        step = "reading the answer from";
        asio::async_read(stream, answer, [&](const boost::system::error_code& read, std::size_t) { outcome = read; });
    });
    io.run_until(deadline);
    if (!outcome)
        throw std::runtime_error("the daemon at " + socket.string() + " did not answer within " +
                                 std::to_string(timeout.count()) + " ms");
    const auto error = *outcome;
    if (answer.size() >= max_answer)
        throw std::runtime_error("the daemon at " + socket.string() + " sent an answer of more than " +
                                 std::to_string(max_answer) + " bytes");
    std::string text(std::istreambuf_iterator<char>(&answer), {});
    // The daemon closes the connection after its answer: the end of the
    // answer is the end of the stream. (It resets it instead when it refused
    // a line too long to read to its end, after its answer.)
    if (text.empty() && (error == asio::error::eof || error == asio::error::broken_pipe ||
                         error == asio::error::connection_reset))
        return std::nullopt;
    if (error && error != asio::error::eof && text.empty())
        throw std::runtime_error(step + " the daemon at " + socket.string() + ": " + error.message());
    return text;
}

} // namespace

nlohmann::json request(const std::filesystem::path& socket, const daemon::Request& what,
                       std::chrono::milliseconds timeout)
{
    // The whole exchange is bounded by timeout: a daemon whose control
    // thread is stuck, or whose queue of connections is full, must not hang
    // the command, and whatever runs it, forever. A request the daemon
    // closed unread is sent again: it did nothing with it.
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    const std::string line = daemon::request_line(what) + "\n";
    std::optional<std::string> answer;
    for (int attempt = 1; !(answer = exchange(socket, line, deadline, timeout)); ++attempt) {
        if (std::chrono::steady_clock::now() >= deadline)
            throw std::runtime_error("the daemon at " + socket.string() + " closed the connection unanswered " +
                                     std::to_string(attempt) + " time(s) in " + std::to_string(timeout.count()) +
                                     " ms (too many connections to it?)");
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const std::string& text = *answer;
    auto json = nlohmann::json::parse(text, nullptr, false);
    if (json.is_discarded())
        throw std::runtime_error("the daemon at " + socket.string() + " sent an answer that is not JSON");
    if (json.is_object() && json.contains("error"))
        throw std::runtime_error("the daemon refused: " +
                                 (json["error"].is_string() ? json["error"].get<std::string>() : json["error"].dump()));
    return json;
}

} // namespace mesh::cli
