#include "ike/fragmentation.hpp"

#include "net/headers.hpp"

namespace mesh::ike {

namespace {
constexpr std::size_t non_esp_marker = 4;
} // namespace

std::size_t ike_message_limit(std::uint32_t path_mtu, bool ipv6, bool natt_port) noexcept
{
    const std::size_t overhead = (ipv6 ? net::ipv6_header_bytes : net::ipv4_header_bytes) + net::udp_header_bytes + (natt_port ? non_esp_marker : 0);
    return path_mtu > overhead ? path_mtu - overhead : 0;
}

FragmentReassembly::Outcome FragmentReassembly::add(std::uint32_t message_id, bool response, std::uint16_t number,
                                                    std::uint16_t total, PayloadType first_payload,
                                                    std::span<const std::uint8_t> content)
{
    if (total == 0 || total > max_fragments || number == 0 || number > total)
        return Outcome::refused;
    if (!holds(message_id, response) || total > chunks_.size()) {
        clear();
        message_id_ = message_id;
        response_ = response;
        chunks_.resize(total);
    } else if (total < chunks_.size()) {
        return Outcome::refused;
    }
    auto& slot = chunks_[number - 1];
    if (slot)
        return Outcome::incomplete;
    if (bytes_ + content.size() > max_reassembled_bytes) {
        clear();
        return Outcome::refused;
    }
    slot.emplace(content.begin(), content.end());
    bytes_ += content.size();
    if (number == 1)
        first_payload_ = first_payload;
    return ++received_ == chunks_.size() ? Outcome::complete : Outcome::incomplete;
}

std::vector<std::uint8_t> FragmentReassembly::take(PayloadType& first_payload)
{
    std::vector<std::uint8_t> message;
    message.reserve(bytes_);
    for (const auto& chunk : chunks_)
        if (chunk)
            message.insert(message.end(), chunk->begin(), chunk->end());
    first_payload = first_payload_;
    clear();
    return message;
}

void FragmentReassembly::clear() noexcept
{
    chunks_.clear();
    bytes_ = 0;
    received_ = 0;
    first_payload_ = PayloadType::none;
}

} // namespace mesh::ike
