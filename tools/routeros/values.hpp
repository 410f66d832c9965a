#pragma once
// RouterOS values turned into mesh-site's: durations, addresses, pools, and
// how TOML writes a string, a list and a table name.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mesh::routeros {

// "1d", "8h", "1h30m", "45m10s", "00:30:00", "1d 02:00:00" -> "1d", "8h",
// "90m", "2710s", "30m", "26h": mesh-site takes one whole unit. nullopt for
// what is not a duration, and for zero.
[[nodiscard]] std::optional<std::string> duration(std::string_view ros);

// "a,b,c" -> {"a", "b", "c"}; empty items dropped.
[[nodiscard]] std::vector<std::string> split_list(std::string_view list);

// "192.0.2.2/32" -> "192.0.2.2"; "0.0.0.0/0" stays; a name stays as written.
[[nodiscard]] std::string host_or_prefix(std::string_view address);
// Whether address is a prefix shorter than a host's ("0.0.0.0/0", "10.0.0.0/8").
[[nodiscard]] bool is_range(std::string_view address);

// The network of a prefix: "10.1.0.1/24" -> "10.1.0.0/24"; a bare address
// stays. nullopt when it is not an address.
[[nodiscard]] std::optional<std::string> network(std::string_view prefix);
// Whether prefix (a network) lies within outer.
[[nodiscard]] bool within(std::string_view prefix, std::string_view outer);

// The smallest IPv4 prefix holding every range of an /ip pool's ranges
// ("172.31.0.2-172.31.0.254,172.31.1.0/24"); exact when the pool holds all
// its addresses but perhaps the network's and the broadcast address, which
// mesh-site never leases either.
struct PoolPrefix {
    std::string prefix;
    bool exact;
};
[[nodiscard]] std::optional<PoolPrefix> pool_prefix(std::string_view ranges);

// "a \"b\"" as a TOML basic string.
[[nodiscard]] std::string toml_string(std::string_view s);
// ["a", "b"]
[[nodiscard]] std::string toml_list(const std::vector<std::string>& items);
// A name as a TOML key: bare when it can be, quoted otherwise.
[[nodiscard]] std::string toml_key(std::string_view name);

// Whether name is a Linux interface name mesh-site takes: 1..15 bytes, no
// '/', ':' or whitespace.
[[nodiscard]] bool is_interface_name(std::string_view name);

} // namespace mesh::routeros
