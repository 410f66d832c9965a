// Finding the holder of a UDP port: /proc/net/udp and udp6 (which show the
// reading process's network namespace) give the inode of every socket bound
// to it; a process holds that socket when one of its /proc/PID/fd links
// reads "socket:[INODE]". Socket inodes are unique across namespaces, so
// a process in another namespace never matches.

#include "tools/daemon/listen_guard.hpp"

#include "net/file_descriptor.hpp"
#include "net/os_error.hpp"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <system_error>

namespace mesh::daemon {

namespace {

// The address as /proc/net/udp prints it: each 32-bit word of the network-order
// bytes as the host reads it, in %08X.
std::string proc_net_address(const net::IpAddress& address)
{
    std::string text;
    for (std::size_t i = 0; i < address.size(); i += 4) {
        std::uint32_t word = 0;
        std::memcpy(&word, address.bytes() + i, sizeof word);
        char hex[9];
        std::snprintf(hex, sizeof hex, "%08X", word);
        text += hex;
    }
    return text;
}

bool all_zero(const std::string& hex) { return hex.find_first_not_of('0') == std::string::npos; }

// Inodes of the UDP sockets that a bind of `local` collides with: same port,
// and the same address or a wildcard on either side (an IPv6 wildcard without
// IPV6_V6ONLY takes IPv4 too).
std::set<unsigned long> colliding_inodes(const net::Endpoint& local)
{
    const std::string ours = proc_net_address(local.address);
    const bool ours_wildcard = local.address.is_unspecified();
    std::set<unsigned long> inodes;
    for (const char* table : {"/proc/net/udp", "/proc/net/udp6"}) {
        std::ifstream in(table);
        std::string line;
        std::getline(in, line); // the header
        while (std::getline(in, line)) {
            // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
            std::istringstream fields(line);
            std::string skip, local_field;
            unsigned long inode = 0;
            if (!(fields >> skip >> local_field))
                continue;
            for (int field = 0; field < 7; ++field) // rem_address .. timeout
                fields >> skip;
            if (!(fields >> inode))
                continue;
            const auto colon = local_field.find(':');
            if (colon == std::string::npos)
                continue;
            const std::string address = local_field.substr(0, colon);
            if (std::stoul(local_field.substr(colon + 1), nullptr, 16) != local.port || inode == 0)
                continue;
            if (ours_wildcard || all_zero(address) || address == ours ||
                (address.size() == 32 && address.ends_with(ours) && address.starts_with("0000000000000000FFFF0000")))
                inodes.insert(inode);
        }
    }
    return inodes;
}

std::string read_first_line(const std::filesystem::path& path)
{
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line;
}

// The first process, by /proc order, with one of `inodes` open: its pid and name.
std::optional<std::pair<long, std::string>> socket_owner(const std::set<unsigned long>& inodes)
{
    std::error_code error;
    for (const auto& process : std::filesystem::directory_iterator("/proc", error)) {
        const std::string pid = process.path().filename();
        if (pid.find_first_not_of("0123456789") != std::string::npos)
            continue;
        std::error_code gone; // processes come and go while we look
        for (const auto& fd : std::filesystem::directory_iterator(process.path() / "fd", gone)) {
            const auto target = std::filesystem::read_symlink(fd.path(), gone).string();
            unsigned long inode = 0;
            if (std::sscanf(target.c_str(), "socket:[%lu]", &inode) == 1 && inodes.contains(inode))
                return std::pair{std::stol(pid), read_first_line(process.path() / "comm")};
        }
    }
    return std::nullopt;
}

} // namespace

std::string udp_port_holder(const net::Endpoint& local)
{
    const auto inodes = colliding_inodes(local);
    if (inodes.empty())
        return {};
    const auto owner = socket_owner(inodes);
    if (!owner)
        return "a socket (inode " + std::to_string(*inodes.begin()) + ") of no process visible here";
    const auto& [pid, name] = *owner;
    if (name == "mesh-site")
        return "another mesh-site (pid " + std::to_string(pid) + ")";
    return name + " (pid " + std::to_string(pid) + ")";
}

std::unique_ptr<tunnel::UdpSocket> bind_exclusive(const net::Endpoint& local)
{
    try {
        return std::make_unique<tunnel::UdpSocket>(local);
    } catch (const std::system_error& error) {
        if (error.code().value() != EADDRINUSE)
            throw;
        const std::string holder = udp_port_holder(local);
        throw std::runtime_error(local.to_string() + " is already used" + (holder.empty() ? "" : " by " + holder));
    }
}

void claim_control_socket(const std::filesystem::path& path)
{
    std::error_code error;
    if (!std::filesystem::is_socket(std::filesystem::symlink_status(path, error))) {
        std::filesystem::remove(path, error);
        return;
    }
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    const std::string text = path.string();
    if (text.size() >= sizeof address.sun_path)
        throw std::runtime_error("control socket path " + text + " is too long");
    std::memcpy(address.sun_path, text.c_str(), text.size() + 1);
    const net::FileDescriptor fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd)
        net::throw_os_error("control socket");
    const bool answers = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
    if (answers)
        throw std::runtime_error("control socket " + text + " is already used by a running mesh-site");
    std::filesystem::remove(path, error); // a daemon that did not exit cleanly left it
}

std::uint32_t daemon_instance(const net::Endpoint& local)
{
    // FNV-1a, folded to 16 bits.
    std::uint32_t hash = 2166136261u;
    auto mix = [&](std::uint8_t byte) { hash = (hash ^ byte) * 16777619u; };
    for (std::size_t i = 0; i < local.address.size(); ++i)
        mix(local.address.bytes()[i]);
    mix(static_cast<std::uint8_t>(local.port >> 8));
    mix(static_cast<std::uint8_t>(local.port));
    return (hash ^ (hash >> 16)) % 65536;
}

} // namespace mesh::daemon
