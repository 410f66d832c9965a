#include "tools/daemon/control_server.hpp"

#include "tools/daemon/listen_guard.hpp"
#include "tools/log/log.hpp"

#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <sys/stat.h>

#include <istream>
#include <memory>

namespace mesh::daemon {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;

namespace {
// A request line longer than this is not one of ours.
constexpr std::size_t max_request = 256;

struct Session : std::enable_shared_from_this<Session> {
    Session(local::socket s, const ControlServer::Handler& h) : socket(std::move(s)), handler(h), request(max_request) {}

    void start()
    {
        asio::async_read_until(socket, request, '\n', [self = shared_from_this()](auto error, std::size_t) {
            if (error)
                return;
            std::istream in(&self->request);
            std::string line;
            std::getline(in, line);
            self->response = self->handler(line) + "\n";
            asio::async_write(self->socket, asio::buffer(self->response), [self](auto, std::size_t) {});
        });
    }

    local::socket socket;
    const ControlServer::Handler& handler;
    asio::streambuf request;
    std::string response;
};
} // namespace

ControlServer::ControlServer(asio::io_context& io, std::filesystem::path path, Handler handler)
    : path_(std::move(path)), handler_(std::move(handler)), acceptor_(io)
{
    if (path_.has_parent_path())
        std::filesystem::create_directories(path_.parent_path());
    claim_control_socket(path_);
    const auto old_mask = ::umask(0077);
    acceptor_.open(local());
    acceptor_.bind(local::endpoint(path_.string()));
    ::umask(old_mask);
    acceptor_.listen();
    accept();
}

ControlServer::~ControlServer()
{
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    std::error_code not_there;
    std::filesystem::remove(path_, not_there);
}

void ControlServer::accept()
{
    acceptor_.async_accept([this](boost::system::error_code error, local::socket socket) {
        if (error == asio::error::operation_aborted)
            return;
        if (!error)
            std::make_shared<Session>(std::move(socket), handler_)->start();
        accept();
    });
}

} // namespace mesh::daemon
