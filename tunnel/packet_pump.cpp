#include "tunnel/packet_pump.hpp"

#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>

namespace mesh::tunnel {

namespace {
// epoll data of the stop eventfd; tunnel ids and socket fds are smaller.
constexpr std::uint64_t stop_tag = ~std::uint64_t{0};
// A socket's epoll data: its fd in the low 32 bits, this bit for a raw ESP
// socket rather than ESP-in-UDP, and its slot (kernel_drops_seen_) above.
constexpr std::uint64_t raw_esp_tag = std::uint64_t{1} << 32;
constexpr int slot_shift = 40;

net::FileDescriptor make_epoll()
{
    net::FileDescriptor fd(::epoll_create1(EPOLL_CLOEXEC));
    if (!fd)
        throw std::system_error(errno, std::generic_category(), "epoll_create1");
    return fd;
}

net::FileDescriptor make_eventfd()
{
    net::FileDescriptor fd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (!fd)
        throw std::system_error(errno, std::generic_category(), "eventfd");
    return fd;
}

void epoll_add(int epoll, int fd, std::uint64_t data)
{
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = data;
    if (::epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) < 0)
        throw std::system_error(errno, std::generic_category(), "epoll_ctl");
}
} // namespace

PacketPump::PacketPump(SaTable& table)
    : table_(table),
      outbound_epoll_(make_epoll()),
      inbound_epoll_(make_epoll()),
      stop_(make_eventfd()),
      notify_(make_eventfd()),
      outbound_reader_(table.quiescent_state().add_reader()),
      outbound_read_(std::make_unique<PacketBuffer>()),
      outbound_sends_(std::make_unique<UdpGsoBatch>()),
      inbound_reader_(table.quiescent_state().add_reader()),
      inbound_batch_(std::make_unique<Batch>())
{
    epoll_add(outbound_epoll_.get(), stop_.get(), stop_tag);
    epoll_add(inbound_epoll_.get(), stop_.get(), stop_tag);
}

PacketPump::~PacketPump()
{
    stop();
}

void PacketPump::watch_udp(int fd)
{
    // Without it every datagram is a receive of its own; a kernel that lacks
    // it (before Linux 5.0) only costs speed.
    const int on = 1;
    ::setsockopt(fd, IPPROTO_UDP, UDP_GRO, &on, sizeof on);
    epoll_add(inbound_epoll_.get(), fd, static_cast<std::uint64_t>(fd) | next_slot());
}

void PacketPump::watch_raw_esp(int fd)
{
    epoll_add(inbound_epoll_.get(), fd, static_cast<std::uint64_t>(fd) | raw_esp_tag | next_slot());
}

std::uint64_t PacketPump::next_slot()
{
    if (sockets_watched_ == max_sockets)
        throw std::length_error("the packet pump watches at most 8 sockets");
    return static_cast<std::uint64_t>(sockets_watched_++) << slot_shift;
}

void PacketPump::watch_tun(TunnelId id, int fd)
{
    epoll_add(outbound_epoll_.get(), fd, id);
}

void PacketPump::unwatch_tun(int fd)
{
    ::epoll_ctl(outbound_epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
}

void PacketPump::start()
{
    outbound_thread_ = std::thread([this] { run_outbound(); });
    inbound_thread_ = std::thread([this] { run_inbound(); });
}

void PacketPump::stop()
{
    if (stopping_.exchange(true))
        return;
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto written = ::write(stop_.get(), &one, sizeof one);
    if (outbound_thread_.joinable())
        outbound_thread_.join();
    if (inbound_thread_.joinable())
        inbound_thread_.join();
}

void PacketPump::run_outbound()
{
    std::array<epoll_event, 16> events{};
    while (!stopping_.load(std::memory_order_relaxed)) {
        outbound_reader_.offline();
        const int ready = ::epoll_wait(outbound_epoll_.get(), events.data(), static_cast<int>(events.size()), -1);
        outbound_reader_.online();
        const Snapshot* snapshot = table_.snapshot();
        for (int i = 0; i < ready; ++i) {
            if (events[i].data.u64 == stop_tag)
                return;
            if (const TunnelPath* path = snapshot->tunnel(static_cast<TunnelId>(events[i].data.u64)))
                outbound_batch(*path);
        }
        outbound_reader_.quiescent();
    }
}

void PacketPump::run_inbound()
{
    std::array<epoll_event, 16> events{};
    while (!stopping_.load(std::memory_order_relaxed)) {
        inbound_reader_.offline();
        const int ready = ::epoll_wait(inbound_epoll_.get(), events.data(), static_cast<int>(events.size()), -1);
        inbound_reader_.online();
        const Snapshot* snapshot = table_.snapshot();
        for (int i = 0; i < ready; ++i) {
            if (events[i].data.u64 == stop_tag)
                return;
            const auto data = events[i].data.u64;
            inbound_batch(*snapshot, static_cast<int>(data & 0xffffffff), (data & raw_esp_tag) != 0,
                          static_cast<std::size_t>(data >> slot_shift));
        }
        inbound_reader_.quiescent();
    }
}

void PacketPump::post(SpscRing<DataplaneEvent, 64>& ring, const DataplaneEvent& event) noexcept
{
    if (DataplaneEvent* slot = ring.prepare()) {
        *slot = event;
        ring.commit();
        notify();
    }
}

void PacketPump::notify() noexcept
{
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto written = ::write(notify_.get(), &one, sizeof one);
}

} // namespace mesh::tunnel
