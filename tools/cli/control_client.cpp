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
    std::optional<boost::system::error_code> outcome;
    auto fail = [&](const std::string& step, const boost::system::error_code& error) {
        throw std::runtime_error(step + " " + socket.string() + ": " + error.message());
    };
    stream.async_connect(local::endpoint(socket.string()), [&](const boost::system::error_code& connected) {
        if (connected) {
            outcome = connected;
            return;
        }
        asio::async_write(stream, asio::buffer(line), [&](const boost::system::error_code& written, std::size_t) {
            if (written) {
                outcome = written;
                return;
            }
            asio::async_read(stream, answer, [&](const boost::system::error_code& read, std::size_t) {
                outcome = read;
            });
        });
    });
    io.run_for(timeout);
    if (!outcome)
        throw std::runtime_error("the daemon at " + socket.string() + " did not answer within " +
                                 std::to_string(timeout.count()) + " ms");
    const std::string text(std::istreambuf_iterator<char>(&answer), {});
    if (*outcome == asio::error::not_found)
        fail("an answer of more than " + std::to_string(max_answer) + " bytes from", *outcome);
    // The daemon closes the connection after its answer: the end of the
    // answer is the end of the stream.
    if (*outcome != asio::error::eof && text.empty()) {
        if (*outcome == asio::error::connection_refused || *outcome == boost::system::errc::no_such_file_or_directory)
            throw std::runtime_error("cannot reach the daemon at " + socket.string() + ": " + outcome->message() +
                                     " (is `mesh-site run` running with this configuration?)");
        fail("talking to the daemon at", *outcome);
    }
    auto json = nlohmann::json::parse(text, nullptr, false);
    if (json.is_discarded())
        throw std::runtime_error("the daemon at " + socket.string() + " sent an answer that is not JSON");
    if (json.is_object() && json.contains("error"))
        throw std::runtime_error("the daemon refused: " +
                                 (json["error"].is_string() ? json["error"].get<std::string>() : json["error"].dump()));
    return json;
}

} // namespace mesh::cli
