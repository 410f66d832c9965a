#include "tools/cli/control_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <iterator>
#include <optional>
#include <stdexcept>

namespace mesh::cli {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;

nlohmann::json request(const std::filesystem::path& socket, const daemon::Request& what,
                       std::chrono::milliseconds timeout)
{
    // Every step is asynchronous and the whole exchange bounded by run_for:
    // a daemon whose control thread is stuck (or whose listen queue is full)
    // must not hang the command, and whatever runs it, forever.
    asio::io_context io;
    local::socket stream(io);
    const std::string line = daemon::request_line(what) + "\n";
    asio::streambuf answer(max_answer);
    std::string step = "connecting to";
    bool sent = false;
    std::optional<boost::system::error_code> outcome;
    stream.async_connect(local::endpoint(socket.string()), [&](const boost::system::error_code& connected) {
        if (connected) {
            outcome = connected;
            return;
        }
        step = "sending the request to";
        asio::async_write(stream, asio::buffer(line), [&](const boost::system::error_code& written, std::size_t) {
            if (written) {
                outcome = written;
                return;
            }
            sent = true;
            step = "reading the answer from";
            asio::async_read(stream, answer, [&](const boost::system::error_code& read, std::size_t) {
                outcome = read;
            });
        });
    });
    io.run_for(timeout);
    if (!outcome)
        throw std::runtime_error("the daemon at " + socket.string() + " did not answer within " +
                                 std::to_string(timeout.count()) + " ms");
    const auto error = *outcome;
    if (error == asio::error::connection_refused || error == boost::system::errc::no_such_file_or_directory)
        throw std::runtime_error("cannot reach the daemon at " + socket.string() + ": " + error.message() +
                                 " (is `mesh-site run` running with this configuration?)");
    // A full listen queue fails a Unix socket's connect with EAGAIN, which
    // asio takes for a connect in progress: the write after it fails.
    if (error && !sent)
        throw std::runtime_error(step + " the daemon at " + socket.string() + ": " + error.message() +
                                 " (a full queue of connections: is the daemon stuck?)");
    if (answer.size() >= max_answer)
        throw std::runtime_error("the daemon at " + socket.string() + " sent an answer of more than " +
                                 std::to_string(max_answer) + " bytes");
    const std::string text(std::istreambuf_iterator<char>(&answer), {});
    // The daemon closes the connection after its answer: the end of the
    // answer is the end of the stream. (It resets it instead when it refused
    // a line too long to read to its end, after its answer.)
    if (error && error != asio::error::eof && text.empty())
        throw std::runtime_error(step + " the daemon at " + socket.string() + ": " + error.message());
    auto json = nlohmann::json::parse(text, nullptr, false);
    if (json.is_discarded())
        throw std::runtime_error("the daemon at " + socket.string() + " sent an answer that is not JSON");
    if (json.is_object() && json.contains("error"))
        throw std::runtime_error("the daemon refused: " +
                                 (json["error"].is_string() ? json["error"].get<std::string>() : json["error"].dump()));
    return json;
}

} // namespace mesh::cli
