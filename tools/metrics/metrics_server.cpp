#include "tools/metrics/metrics_server.hpp"

#include "tools/log/log.hpp"
#include "tools/metrics/exposition.hpp"

#include <boost/asio/ip/v6_only.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <exception>

namespace mesh::metrics {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {
// An accept that fails (no descriptors left) is tried again after this, never at once.
constexpr auto accept_pause = std::chrono::milliseconds(200);

// What the parser refused (not HTTP, a body); not the connection's end or a socket error.
bool http_error(const beast::error_code& error)
{
    static const beast::error_code parser_error = http::error::bad_method;
    return error.category() == parser_error.category();
}

asio::ip::address to_asio(const net::IpAddress& address)
{
    return asio::ip::make_address(address.to_string());
}
} // namespace

// One connection: read a request's header, answer it, close; all before its deadline.
class MetricsServer::Session : public std::enable_shared_from_this<Session> {
public:
    Session(MetricsServer& server, tcp::socket socket)
        : server_(&server), stream_(std::move(socket)), buffer_(server.limits_.header_bytes)
    {
        parser_.header_limit(server.limits_.header_bytes);
        parser_.body_limit(0);
    }

    void start(std::list<std::shared_ptr<Session>>::iterator place)
    {
        place_ = place;
        // One deadline for the request and the answer: a client that reads slowly is as idle as one that is silent.
        stream_.expires_after(server_->limits_.timeout);
        http::async_read(stream_, buffer_, parser_,
                         [self = shared_from_this()](const beast::error_code& error, std::size_t) {
                             self->on_read(error);
                         });
    }

    // Idempotent; the server forgets the session (unless it is going away itself).
    void close() noexcept
    {
        if (closed_)
            return;
        const auto self = shared_from_this();
        closed_ = true;
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream_.close();
        if (server_)
            server_->sessions_.erase(place_);
    }

    void orphan() noexcept
    {
        server_ = nullptr;
        close();
    }

    [[nodiscard]] bool answering() const noexcept { return answering_; }

private:
    void on_read(const beast::error_code& error)
    {
        if (closed_ || server_ == nullptr)
            return;
        if (error == beast::error::timeout) {
            ++server_->counters_.timed_out;
            log::daemon()->debug("metrics: a connection sent no request within {} ms: closed",
                                 server_->limits_.timeout.count());
            return close();
        }
        if (error == http::error::header_limit || error == http::error::buffer_overflow)
            return refuse(http::status::request_header_fields_too_large, error.message());
        if (error && error != http::error::end_of_stream && http_error(error))
            return refuse(http::status::bad_request, error.message());
        if (error)
            return close();
        const auto& request = parser_.get();
        const auto target = std::string_view(request.target().data(), request.target().size());
        if (target.substr(0, target.find('?')) != "/metrics")
            return refuse(http::status::not_found, "not /metrics");
        if (request.method() != http::verb::get)
            return refuse(http::status::method_not_allowed, "not GET");
        std::string body;
        try {
            body = server_->render_();
        } catch (const std::exception& failure) {
            log::daemon()->error("metrics: rendering failed: {}", failure.what());
            return close();
        }
        ++server_->counters_.scrapes;
        respond(http::status::ok, std::move(body), content_type);
    }

    void refuse(http::status status, const std::string& why)
    {
        ++server_->counters_.refused;
        log::daemon()->debug("metrics: answered {}: {}", static_cast<unsigned>(status), why);
        respond(status, std::string(http::obsolete_reason(status)) + "\n", "text/plain; charset=utf-8");
    }

    void respond(http::status status, std::string body, std::string_view type)
    {
        answering_ = true;
        response_.result(status);
        response_.version(11);
        response_.set(http::field::content_type, beast::string_view(type.data(), type.size()));
        if (status == http::status::method_not_allowed)
            response_.set(http::field::allow, "GET");
        response_.keep_alive(false);
        response_.body() = std::move(body);
        response_.prepare_payload();
        http::async_write(stream_, response_, [self = shared_from_this()](const beast::error_code&, std::size_t) {
            self->close();
        });
    }

    MetricsServer* server_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    http::request_parser<http::empty_body> parser_;
    http::response<http::string_body> response_;
    std::list<std::shared_ptr<Session>>::iterator place_;
    bool answering_ = false;
    bool closed_ = false;
};

MetricsServer::MetricsServer(asio::io_context& io, const net::Endpoint& listen, Render render, Limits limits)
    : render_(std::move(render)), limits_(limits), acceptor_(io), accept_pause_timer_(io)
{
    const tcp::endpoint endpoint(to_asio(listen.address), listen.port);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    if (endpoint.address().is_v6())
        acceptor_.set_option(asio::ip::v6_only(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(static_cast<int>(std::max<std::size_t>(limits_.connections, 4)));
    accept();
}

MetricsServer::~MetricsServer()
{
    for (auto& session : std::exchange(sessions_, {}))
        session->orphan();
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    accept_pause_timer_.cancel();
}

net::Endpoint MetricsServer::local() const
{
    const auto endpoint = acceptor_.local_endpoint();
    return {*net::IpAddress::parse(endpoint.address().to_string()), endpoint.port()};
}

void MetricsServer::accept()
{
    acceptor_.async_accept([this](const boost::system::error_code& error, tcp::socket socket) {
        if (error == asio::error::operation_aborted)
            return;
        if (error) {
            log::daemon()->debug("metrics: accept failed: {}", error.message());
            accept_pause_timer_.expires_after(accept_pause);
            accept_pause_timer_.async_wait([this](const boost::system::error_code& cancelled) {
                if (!cancelled)
                    accept();
            });
            return;
        }
        try {
            admit(std::move(socket));
        } catch (const std::exception& failure) {
            log::daemon()->debug("metrics: a new connection failed: {}", failure.what());
        }
        accept();
    });
}

void MetricsServer::admit(tcp::socket socket)
{
    if (sessions_.size() >= limits_.connections) {
        ++counters_.over_limit;
        const auto waiting = std::ranges::find_if(sessions_, [](const auto& s) { return !s->answering(); });
        if (waiting == sessions_.end())
            return;   // all of them are being answered: the new one closes as `socket` goes
        (*waiting)->close();
    }
    auto session = std::make_shared<Session>(*this, std::move(socket));
    sessions_.push_back(session);
    session->start(std::prev(sessions_.end()));
}

} // namespace mesh::metrics
