#include "tools/daemon/control_server.hpp"

#include "tools/daemon/listen_guard.hpp"
#include "tools/log/log.hpp"

#include <boost/asio/write.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <exception>
#include <string_view>

namespace mesh::daemon {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;
using Clock = std::chrono::steady_clock;

namespace {
constexpr auto longest_accept_pause = std::chrono::milliseconds(1000);

long long seconds(Clock::duration d)
{
    return std::chrono::duration_cast<std::chrono::seconds>(d).count();
}
} // namespace

// One connection: read a line, answer it, close; all before its deadline.
class ControlServer::Session : public std::enable_shared_from_this<Session> {
public:
    Session(ControlServer& server, local::socket socket)
        : server_(&server), socket_(std::move(socket)), deadline_(socket_.get_executor())
    {
    }

    void start(std::list<std::shared_ptr<Session>>::iterator place)
    {
        place_ = place;
        deadline_.expires_after(server_->limits_.timeout);
        deadline_.async_wait([self = shared_from_this()](const boost::system::error_code& error) {
            if (error || self->closed_)
                return;
            if (self->server_)
                self->server_->note(Trouble::timed_out);
            self->close();
        });
        read();
    }

    // Idempotent; the server forgets the session (unless it is going away itself).
    void close() noexcept
    {
        if (closed_)
            return;
        const auto self = shared_from_this();
        closed_ = true;
        deadline_.cancel();
        boost::system::error_code ignored;
        socket_.shutdown(local::socket::shutdown_both, ignored);
        socket_.close(ignored);
        if (server_)
            server_->forget(place_);
    }

    void orphan() noexcept
    {
        server_ = nullptr;
        close();
    }

    [[nodiscard]] bool answering() const noexcept { return answering_; }

private:
    void read()
    {
        socket_.async_read_some(asio::buffer(line_.data() + filled_, line_.size() - filled_),
                                [self = shared_from_this()](const boost::system::error_code& error, std::size_t n) {
                                    self->on_read(error, n);
                                });
    }

    void on_read(const boost::system::error_code& error, std::size_t n)
    {
        if (closed_)
            return;
        const auto start = filled_;
        filled_ += n;
        const std::string_view got(line_.data(), filled_);
        if (const auto end = got.find('\n', start); end != std::string_view::npos)
            return respond(got.substr(0, end));
        // A client that ends its line with the end of its writing (`printf status | socat`)
        // is answered too; a line that fills the buffer is answered with its refusal.
        if ((error == asio::error::eof && filled_ > 0) || (!error && filled_ == line_.size()))
            return respond(got);
        if (error)
            return close();
        read();
    }

    void respond(std::string_view line)
    {
        answering_ = true;
        try {
            auto [text, failure] = answer(line, server_->handler_);
            if (!failure.empty())
                log::daemon()->error("control socket: answering {} failed: {}", printable(line), failure);
            ++server_->counters_.answered;
            reply_ = std::move(text) + "\n";
        } catch (const std::exception& error) {
            log::daemon()->error("control socket: answering {} failed: {}", printable(line), error.what());
            return close();
        }
        asio::async_write(socket_, asio::buffer(reply_),
                          [self = shared_from_this()](const boost::system::error_code&, std::size_t) { self->close(); });
    }

    ControlServer* server_;
    local::socket socket_;
    asio::steady_timer deadline_;
    std::list<std::shared_ptr<Session>>::iterator place_;
    // The request line with "\r\n"; a line that does not fit is refused as too long.
    std::array<char, max_request_line + 2> line_{};
    std::size_t filled_ = 0;
    std::string reply_;
    bool answering_ = false;
    bool closed_ = false;
};

ControlServer::ControlServer(asio::io_context& io, std::filesystem::path path, Handler handler, Limits limits)
    : path_(std::move(path)),
      handler_(std::move(handler)),
      limits_(limits),
      acceptor_(io),
      accept_pause_timer_(io),
      accept_pause_(limits.first_accept_pause),
      quiet_timer_(io)
{
    if (path_.has_parent_path())
        std::filesystem::create_directories(path_.parent_path());
    claim_control_socket(path_);
    const auto old_mask = ::umask(0077);
    acceptor_.open(local());
    acceptor_.bind(local::endpoint(path_.string()));
    ::umask(old_mask);
    acceptor_.listen(limits_.backlog);
    accept();
}

ControlServer::~ControlServer()
{
    for (auto& session : std::exchange(sessions_, {}))
        session->orphan();
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    accept_pause_timer_.cancel();
    quiet_timer_.cancel();
    std::error_code not_there;
    std::filesystem::remove(path_, not_there);
}

void ControlServer::accept()
{
    acceptor_.async_accept([this](const boost::system::error_code& error, local::socket socket) {
        if (error == asio::error::operation_aborted)
            return;
        if (error)
            return on_accept_failed(error);
        accept_pause_ = limits_.first_accept_pause;
        try {
            admit(std::move(socket));
        } catch (const std::exception& failure) {
            log::daemon()->error("control socket: a new connection failed: {}", failure.what());
        }
        accept();
    });
}

void ControlServer::admit(local::socket socket)
{
    if (sessions_.size() >= limits_.connections) {
        note(Trouble::over_limit);
        const auto waiting = std::ranges::find_if(sessions_, [](const auto& s) { return !s->answering(); });
        if (waiting == sessions_.end())
            return;   // all of them are being answered: the new one closes as `socket` goes
        (*waiting)->close();
    }
    auto session = std::make_shared<Session>(*this, std::move(socket));
    sessions_.push_back(session);
    session->start(std::prev(sessions_.end()));
}

void ControlServer::forget(std::list<std::shared_ptr<Session>>::iterator session)
{
    sessions_.erase(session);
}

// EMFILE, ENFILE, ENOBUFS, ENOMEM: the listening socket stays readable, so
// accepting again at once spins at full CPU without ever succeeding.
void ControlServer::on_accept_failed(const boost::system::error_code& error)
{
    note(Trouble::accept_failed, error.message());
    accept_pause_timer_.expires_after(accept_pause_);
    accept_pause_ = std::min(2 * accept_pause_, std::max(longest_accept_pause, limits_.first_accept_pause));
    accept_pause_timer_.async_wait([this](const boost::system::error_code& cancelled) {
        if (!cancelled)
            accept();
    });
}

void ControlServer::note(Trouble trouble, const std::string& detail)
{
    const auto now = Clock::now();
    last_trouble_ = now;
    if (!reporting_) {
        reporting_ = true;
        troubled_since_ = now;
        report_when_quiet(limits_.quiet);
    }
    auto& count = troubles_[static_cast<std::size_t>(trouble)];
    ++count;
    switch (trouble) {
    case Trouble::over_limit:
        ++counters_.over_limit;
        if (count == 1)
            log::daemon()->warn("control socket: {} connections open, the limit: each new one closes the oldest "
                                "that has not sent its request (counted until quiet for {} s)",
                                limits_.connections, seconds(limits_.quiet));
        break;
    case Trouble::timed_out:
        ++counters_.timed_out;
        if (count == 1)
            log::daemon()->warn("control socket: a connection sent no request line or took no answer within {} ms: "
                                "closed (counted until quiet for {} s)",
                                limits_.timeout.count(), seconds(limits_.quiet));
        break;
    case Trouble::accept_failed:
        ++counters_.accept_failures;
        if (count == 1)
            log::daemon()->error("control socket: accept failed: {}; trying again after a pause of {} ms, up to {} ms "
                                 "(counted until quiet for {} s)",
                                 detail, accept_pause_.count(), longest_accept_pause.count(), seconds(limits_.quiet));
        break;
    }
}

void ControlServer::report_when_quiet(Clock::duration wait)
{
    quiet_timer_.expires_after(wait);
    quiet_timer_.async_wait([this](const boost::system::error_code& cancelled) {
        if (cancelled)
            return;
        const auto now = Clock::now();
        if (const auto calm = now - last_trouble_; calm < limits_.quiet)
            return report_when_quiet(limits_.quiet - calm);
        const auto [over_limit, timed_out, accept_failed] = std::exchange(troubles_, {});
        log::daemon()->info("control socket: quiet again after {} s: {} connection(s) closed over the limit of {}, "
                            "{} timed out, {} failed accept(s)",
                            seconds(last_trouble_ - troubled_since_), over_limit, limits_.connections, timed_out,
                            accept_failed);
        reporting_ = false;
    });
}

} // namespace mesh::daemon
