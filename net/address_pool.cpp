#include "net/address_pool.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

namespace mesh::net {

namespace {

// FNV-1a: the same block for the same key on every build and restart.
std::uint32_t stable_hash(std::string_view key) noexcept
{
    std::uint32_t hash = 2166136261U;
    for (const char c : key) {
        hash ^= static_cast<std::uint8_t>(c);
        hash *= 16777619U;
    }
    return hash;
}

// base + (value << shift), in the address's big-endian bytes.
IpAddress add_shifted(const IpAddress& base, std::uint64_t value, unsigned shift) noexcept
{
    std::array<std::uint8_t, 16> bytes{};
    const std::size_t size = base.size();
    std::copy_n(base.bytes(), size, bytes.begin());
    // value << (shift % 8) in nine little-endian bytes, added from byte `shift / 8` up.
    const unsigned bit = shift % 8;
    std::array<std::uint8_t, 9> addend{};
    for (std::size_t i = 0; i < 8; ++i)
        addend[i] = static_cast<std::uint8_t>((value << bit) >> (8 * i));
    addend[8] = bit == 0 ? 0 : static_cast<std::uint8_t>(value >> (64 - bit));
    const std::size_t skip = shift / 8;
    unsigned carry = 0;
    for (std::size_t k = 0; skip + k < size; ++k) {
        const std::size_t i = size - 1 - skip - k;
        const unsigned sum = bytes[i] + (k < addend.size() ? addend[k] : 0U) + carry;
        bytes[i] = static_cast<std::uint8_t>(sum);
        carry = sum >> 8;
    }
    return IpAddress::from_bytes(base.family(), bytes.data());
}

} // namespace

AddressPool::AddressPool(IpPrefix pool, std::uint8_t block_length) : pool_(pool), block_length_(block_length)
{
    const unsigned bits = pool.address().is_v4() ? 32 : 128;
    if (block_length < pool.length() || block_length > bits)
        throw std::invalid_argument("blocks of /" + std::to_string(block_length) + " do not fit in " + pool.to_string());
    const unsigned spare = block_length - pool.length();
    const std::uint32_t blocks = spare >= 20 ? max_blocks : (1U << spare);
    slots_.assign(blocks, Slot::never_used);
    owner_.assign(blocks, {});
}

IpAddress AddressPool::address_in(const IpPrefix& block, std::uint64_t n) noexcept
{
    return add_shifted(block.address(), n, 0);
}

IpPrefix AddressPool::block(std::uint32_t index) const noexcept
{
    const unsigned bits = pool_.address().is_v4() ? 32 : 128;
    return {add_shifted(pool_.address(), index, bits - block_length_), block_length_};
}

std::optional<std::uint32_t> AddressPool::probe(std::uint32_t start, Slot wanted) const noexcept
{
    const auto count = static_cast<std::uint32_t>(slots_.size());
    for (std::uint32_t step = 0; step < count; ++step) {
        const std::uint32_t index = (start + step) % count;
        if (slots_[index] == wanted)
            return index;
    }
    return std::nullopt;
}

std::uint32_t AddressPool::take(std::string_view key, std::uint32_t index)
{
    std::string name(key);
    if (slots_[index] == Slot::free_remembered && owner_[index] != name)
        last_.erase(owner_[index]);
    slots_[index] = Slot::held;
    owner_[index] = name;
    last_[name] = index;
    held_.emplace(std::move(name), index);
    return index;
}

std::optional<IpPrefix> AddressPool::acquire(std::string_view key)
{
    if (const auto it = held_.find(std::string(key)); it != held_.end())
        return block(it->second);
    if (const auto it = last_.find(std::string(key)); it != last_.end() && slots_[it->second] != Slot::held)
        return block(take(key, it->second));
    const auto start = static_cast<std::uint32_t>(stable_hash(key) % slots_.size());
    // A never-used block first, so the blocks others left stay theirs for a while.
    auto index = probe(start, Slot::never_used);
    if (!index)
        index = probe(start, Slot::free_remembered);
    if (!index)
        return std::nullopt;
    return block(take(key, *index));
}

void AddressPool::release(std::string_view key)
{
    const auto it = held_.find(std::string(key));
    if (it == held_.end())
        return;
    slots_[it->second] = Slot::free_remembered;
    held_.erase(it);
}

std::optional<IpPrefix> AddressPool::held(std::string_view key) const
{
    const auto it = held_.find(std::string(key));
    if (it == held_.end())
        return std::nullopt;
    return block(it->second);
}

} // namespace mesh::net
