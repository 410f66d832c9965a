#pragma once
// The control socket: a Unix stream socket (mode 0600, it can export keys)
// where `mesh-site status` and `mesh-site keys` send one request line and
// read one JSON document back.

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include <filesystem>
#include <functional>
#include <string>

namespace mesh::daemon {

class ControlServer {
public:
    // Answers a request line ("status", "keys") with a JSON text.
    using Handler = std::function<std::string(const std::string& request)>;

    // Throws std::system_error if the socket cannot be created.
    ControlServer(boost::asio::io_context& io, std::filesystem::path path, Handler handler);
    ~ControlServer();
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

private:
    void accept();

    std::filesystem::path path_;
    Handler handler_;
    boost::asio::local::stream_protocol::acceptor acceptor_;
};

} // namespace mesh::daemon
