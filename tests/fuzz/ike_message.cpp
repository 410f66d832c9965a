// libFuzzer target for the IKEv2 message codec (ike/message.hpp). Any input is
// either refused or parsed, and what parses obeys the round trip:
//   parse(x) = m  =>  serialize(m) = b is not empty, parse(b) == m, serialize(parse(b)) == b
// and, for a message ending in SK or SKF, associated_data(m, n) || body == b.
// The same bytes, after a first byte naming the first payload type, also go
// through parse_payload_chain() under the same property, and each CP payload
// of the chain through mode config's checks (ike/mode_config.hpp): refused,
// or read to attributes that cfg_reply() writes back to the same.

#include "ike/message.hpp"
#include "ike/mode_config.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <variant>
#include <vector>

namespace {

using mesh::ike::Message;
using mesh::ike::Payload;
using mesh::ike::PayloadType;

void check_message(std::span<const std::uint8_t> input)
{
    (void)mesh::ike::parse_header(input);
    const auto m = mesh::ike::parse(input);
    if (!m)
        return;
    const std::vector<std::uint8_t> bytes = mesh::ike::serialize(*m);
    if (bytes.empty())
        std::abort();
    const auto again = mesh::ike::parse(bytes);
    if (!again || *again != *m || mesh::ike::serialize(*again) != bytes)
        std::abort();

    if (m->payloads.empty())
        return;
    const std::vector<std::uint8_t>* body = std::visit(
        [](const auto& p) -> const std::vector<std::uint8_t>* {
            if constexpr (requires { p.first_payload; })
                return &p.body;
            return nullptr;
        },
        m->payloads.back());
    if (body == nullptr)
        return;
    std::vector<std::uint8_t> joined = mesh::ike::associated_data(*m, body->size());
    const auto received = mesh::ike::associated_data(bytes, body->size());
    if (!std::equal(joined.begin(), joined.end(), received.begin(), received.end()))
        std::abort();
    joined.insert(joined.end(), body->begin(), body->end());
    if (joined != bytes)
        std::abort();
}

void check_chain(std::span<const std::uint8_t> input)
{
    if (input.empty())
        return;
    const auto first = static_cast<PayloadType>(input[0]);
    const auto chain = mesh::ike::parse_payload_chain(first, input.subspan(1));
    if (!chain)
        return;
    const std::vector<std::uint8_t> bytes = mesh::ike::serialize_payload_chain(*chain);
    if (bytes.empty() != chain->empty())
        std::abort();
    const PayloadType first_again = chain->empty() ? PayloadType::none : mesh::ike::payload_type(chain->front());
    const auto again = mesh::ike::parse_payload_chain(first_again, bytes);
    if (!again || *again != *chain || mesh::ike::serialize_payload_chain(*again) != bytes)
        std::abort();

    for (const Payload& payload : *chain) {
        const auto* cp = std::get_if<mesh::ike::CpPayload>(&payload);
        if (cp == nullptr)
            continue;
        (void)mesh::ike::requested_families(*cp);
        const auto given = mesh::ike::parse_cfg_reply(*cp);
        if (given && mesh::ike::parse_cfg_reply(mesh::ike::cfg_reply(*given)) != given)
            std::abort();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::span<const std::uint8_t> input(data, size);
    check_message(input);
    check_chain(input);
    return 0;
}
