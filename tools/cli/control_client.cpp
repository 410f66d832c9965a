#include "tools/cli/control_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <iterator>
#include <stdexcept>

namespace mesh::cli {

nlohmann::json request(const std::filesystem::path& socket, const std::string& what)
{
    namespace asio = boost::asio;
    asio::io_context io;
    asio::local::stream_protocol::socket stream(io);
    boost::system::error_code error;
    stream.connect(asio::local::stream_protocol::endpoint(socket.string()), error);
    if (error)
        throw std::runtime_error("cannot reach the daemon at " + socket.string() + ": " + error.message() +
                                 " (is `mesh-site run` running with this configuration?)");
    asio::write(stream, asio::buffer(what + "\n"));
    asio::streambuf answer;
    asio::read(stream, answer, error);
    if (error && error != asio::error::eof)
        throw std::runtime_error("reading from " + socket.string() + ": " + error.message());
    const std::string text(std::istreambuf_iterator<char>(&answer), {});
    auto json = nlohmann::json::parse(text, nullptr, false);
    if (json.is_discarded())
        throw std::runtime_error("the daemon at " + socket.string() + " sent an answer that is not JSON");
    if (json.contains("error"))
        throw std::runtime_error("the daemon refused: " + json["error"].get<std::string>());
    return json;
}

} // namespace mesh::cli
