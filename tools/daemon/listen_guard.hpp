#pragma once
// One mesh-site per UDP address and port, and per control socket, in a
// network namespace. A second daemon on the same `listen` would take IKE and
// ESP from the first and, on its way out, remove the first one's routes and
// leak-guard blackholes: it must refuse to start instead, naming who holds
// the port. Sockets are per network namespace, so a hub and its sites in
// separate namespaces may all use 192.0.2.1:4500.

#include "net/ip_address.hpp"
#include "tunnel/udp_socket.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace mesh::daemon {

// The UDP socket bound on `local`; when the address is taken, throws
// std::runtime_error with one line naming the holder:
// "192.0.2.1:4500 is already used by another mesh-site (pid 812)".
[[nodiscard]] std::unique_ptr<tunnel::UdpSocket> bind_exclusive(const net::Endpoint& local);

// Who holds UDP `local` in this network namespace: "another mesh-site (pid 812)",
// "charon (pid 77)", or, for a socket no visible process owns, "a socket (inode 4711)";
// empty when /proc/net/udp{,6} shows none.
[[nodiscard]] std::string udp_port_holder(const net::Endpoint& local);

// Makes `path` free to bind a control socket on: a socket file nothing
// answers on (a daemon that did not exit cleanly) is removed; throws
// std::runtime_error when a daemon still answers there.
void claim_control_socket(const std::filesystem::path& path);

// The daemon's instance number, below 65536: from the listen address and
// port, which bind_exclusive makes unique among the daemons of one network
// namespace and which stay the same across restarts (so a restarted daemon
// replaces the leak-guard blackholes its crashed predecessor left). It tells
// apart what daemons share in a namespace: blackhole metrics, interface groups.
[[nodiscard]] std::uint32_t daemon_instance(const net::Endpoint& local);

} // namespace mesh::daemon
