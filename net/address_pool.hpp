#pragma once
// Equal blocks carved from one prefix and handed out by key (a peer's IKE
// identity): a hub's per-branch tunnel addresses and mode-config addresses.
// A key keeps its block while it holds it, and gets the same one back after
// a reconnect: the first choice is a hash of the key, and a released block
// stays reserved for its last key until no never-used block is left.

#include "net/ip_address.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mesh::net {

class AddressPool {
public:
    // Blocks of block_length bits carved from pool; throws std::invalid_argument
    // when block_length is shorter than the pool's or longer than the family's.
    // A pool of more than max_blocks blocks uses only its first max_blocks.
    AddressPool(IpPrefix pool, std::uint8_t block_length);

    static constexpr std::uint32_t max_blocks = 1U << 20;

    // The key's block: the one it holds, else its last one if free, else a
    // free one; nullopt when every block is held.
    [[nodiscard]] std::optional<IpPrefix> acquire(std::string_view key);
    // The key's block becomes free (kept in mind for the key's return).
    void release(std::string_view key);
    [[nodiscard]] std::optional<IpPrefix> held(std::string_view key) const;

    [[nodiscard]] const IpPrefix& pool() const noexcept { return pool_; }
    [[nodiscard]] std::uint32_t capacity() const noexcept { return static_cast<std::uint32_t>(owner_.size()); }
    [[nodiscard]] std::size_t in_use() const noexcept { return held_.size(); }

    // The n-th address of block (0: its first); n must be inside the block.
    [[nodiscard]] static IpAddress address_in(const IpPrefix& block, std::uint64_t n) noexcept;

private:
    enum class Slot : std::uint8_t { never_used, free_remembered, held };

    [[nodiscard]] IpPrefix block(std::uint32_t index) const noexcept;
    [[nodiscard]] std::optional<std::uint32_t> probe(std::uint32_t start, Slot wanted) const noexcept;
    std::uint32_t take(std::string_view key, std::uint32_t index);

    IpPrefix pool_;
    std::uint8_t block_length_;
    std::vector<Slot> slots_;
    std::vector<std::string> owner_;                        // by block: its holder, or its last one
    std::unordered_map<std::string, std::uint32_t> held_;   // key -> block
    std::unordered_map<std::string, std::uint32_t> last_;   // key -> the block it last held
};

} // namespace mesh::net
