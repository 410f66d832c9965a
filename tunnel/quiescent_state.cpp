#include "tunnel/quiescent_state.hpp"

#include <algorithm>

namespace mesh::tunnel {

QuiescentState::Reader& QuiescentState::add_reader()
{
    readers_.push_back(std::unique_ptr<Reader>(new Reader(this)));
    return *readers_.back();
}

void QuiescentState::retire(std::shared_ptr<const void> garbage)
{
    // Readers that report an epoch >= this one started their batch after the
    // old pointer was replaced, so they cannot hold it.
    const auto epoch = epoch_.fetch_add(1, std::memory_order_acq_rel) + 1;
    retired_.push_back({epoch, std::move(garbage)});
}

std::size_t QuiescentState::reclaim()
{
    // seq_cst: pairs with Reader::online() (see there).
    std::uint64_t oldest_seen = Reader::offline_epoch;
    for (const auto& reader : readers_)
        oldest_seen = std::min(oldest_seen, reader->seen_.load(std::memory_order_seq_cst));
    std::erase_if(retired_, [&](const Retired& r) { return r.epoch <= oldest_seen; });
    return retired_.size();
}

} // namespace mesh::tunnel
