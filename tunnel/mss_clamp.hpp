#pragma once
// TCP MSS clamping on packets entering the tunnel, the equivalent of RouterOS's
// `change-mss clamp-to-pmtu` and iptables' TCPMSS --clamp-mss-to-pmtu: a SYN
// announcing an MSS larger than the tunnel can carry unfragmented is rewritten,
// so TCP over the tunnel does not depend on PMTU discovery (one way of
// signalling the lower MTU to the sources, RFC 4459 section 3.2).

#include <cstdint>
#include <span>

namespace mesh::tunnel {

// packet: one IPv4 or IPv6 packet, modified in place. If it is a TCP segment
// with SYN set (SYN or SYN-ACK) whose MSS option exceeds mtu minus the fixed IP
// and TCP headers (40 bytes for IPv4, 60 for IPv6; RFC 9293 section 3.7.1),
// lowers the MSS and updates the TCP checksum incrementally (RFC 1624).
// Returns whether the packet was changed. Anything else, including malformed
// or truncated packets, non-first fragments and IPv6 packets whose TCP header
// follows extension headers, is left untouched. Never reads or writes outside
// the span; allocates nothing.
[[nodiscard]] bool clamp_tcp_mss(std::span<std::uint8_t> packet, std::uint32_t mtu) noexcept;

} // namespace mesh::tunnel
