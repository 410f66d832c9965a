// The IKE message and its payload chain (RFC 7296 sections 3.1 and 3.2):
//
//   parse:      header (28 bytes) -> version, Length == datagram -> chain:
//               per payload: generic header -> body by type (layout, is_valid)
//               or UnknownPayload (critical bit: refused) -> next, until 0 or SK
//   serialize:  header with Length 0 -> chain: generic header with Length 0,
//               body, Length patched -> header's Length patched

#include "ike/message.hpp"

#include "ike/layout.hpp"
#include "ike/limits.hpp"
#include "ike/wire.hpp"

#include <limits>
#include <optional>
#include <type_traits>
#include <utility>

namespace mesh::ike {
namespace {

using layout::Decoder;
using layout::Encoder;

// RFC 7296 section 3.2, Generic Payload Header.
//
//                         1                   2                   3
//     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    | Next Payload  |C|  RESERVED   |         Payload Length        |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Payload Length counts these four bytes too.
struct GenericHeader {
    PayloadType next_payload = PayloadType::none;
    bool critical = false;
    std::uint16_t length = 0;

    template <class Self, class Io>
    static void layout(Self& g, Io& io)
    {
        io.u8(g.next_payload);
        io.packed8(layout::flag(g.critical, 7));
        io.u16(g.length);
    }
};

template <class T>
constexpr bool is_encrypted = std::is_same_v<T, SkPayload> || std::is_same_v<T, SkfPayload>;

template <class T>
std::expected<Payload, ParseError> decode_as(std::span<const std::uint8_t> body)
{
    T payload{};
    Decoder in(body);
    T::layout(payload, in);
    in.finish();
    if (!in.ok())
        return std::unexpected(ParseError{in.error()});
    if constexpr (requires { is_valid(payload); }) {
        if (!is_valid(payload))
            return std::unexpected(ParseError{ParseErrc::invalid_syntax});
    }
    return Payload{std::move(payload)};
}

// The body decoded as the Payload alternative of that type; nullopt when no
// alternative implements the type.
template <std::size_t I = 0>
std::optional<std::expected<Payload, ParseError>> decode_known(PayloadType type, std::span<const std::uint8_t> body)
{
    if constexpr (I == std::variant_size_v<Payload>) {
        return std::nullopt;
    } else {
        using T = std::variant_alternative_t<I, Payload>;
        if constexpr (!std::is_same_v<T, UnknownPayload>) {
            if (T::type == type)
                return decode_as<T>(body);
        }
        return decode_known<I + 1>(type, body);
    }
}

template <class T>
constexpr bool implements(PayloadType type) noexcept
{
    if constexpr (std::is_same_v<T, UnknownPayload>)
        return false;
    else
        return T::type == type;
}
template <std::size_t... I>
constexpr bool implemented(PayloadType type, std::index_sequence<I...>) noexcept
{
    return (implements<std::variant_alternative_t<I, Payload>>(type) || ...);
}
constexpr bool implemented(PayloadType type) noexcept
{
    return implemented(type, std::make_index_sequence<std::variant_size_v<Payload>>{});
}

// `outer`: the chain after the IKE header, where SK or SKF may end it.
std::expected<std::vector<Payload>, ParseError> parse_chain(PayloadType first, std::span<const std::uint8_t> bytes,
                                                            bool outer)
{
    std::vector<Payload> payloads;
    std::size_t position = 0;
    for (PayloadType type = first; type != PayloadType::none;) {
        if (payloads.size() == limits::max_payloads)
            return std::unexpected(ParseError{ParseErrc::too_many});
        if (bytes.size() - position < limits::payload_header_length)
            return std::unexpected(ParseError{ParseErrc::truncated});
        GenericHeader generic;
        Decoder head(bytes.subspan(position, limits::payload_header_length));
        GenericHeader::layout(generic, head);
        if (generic.length < limits::payload_header_length || generic.length > bytes.size() - position)
            return std::unexpected(ParseError{ParseErrc::bad_length});
        const auto body = bytes.subspan(position + limits::payload_header_length,
                                        generic.length - limits::payload_header_length);
        position += generic.length;

        auto decoded = decode_known(type, body);
        if (!decoded) {
            // RFC 7296 section 2.5: skip it, unless the sender marked it critical.
            if (generic.critical)
                return std::unexpected(ParseError{ParseErrc::unsupported_critical, static_cast<std::uint8_t>(type)});
            payloads.emplace_back(UnknownPayload{type, false, {body.begin(), body.end()}});
            type = generic.next_payload;
            continue;
        }
        if (!*decoded)
            return std::unexpected(decoded->error());
        Payload& payload = payloads.emplace_back(std::move(**decoded));

        // SK and SKF: Next Payload names the first payload inside, and nothing follows.
        const bool encrypted = std::visit(
            [&](auto& p) {
                if constexpr (is_encrypted<std::decay_t<decltype(p)>>) {
                    p.first_payload = generic.next_payload;
                    return true;
                }
                return false;
            },
            payload);
        if (encrypted) {
            if (!outer)
                return std::unexpected(ParseError{ParseErrc::invalid_syntax});
            break;
        }
        type = generic.next_payload;
    }
    if (position != bytes.size())
        return std::unexpected(ParseError{ParseErrc::bad_length});
    return payloads;
}

void encode_chain(Encoder& out, std::span<const Payload> payloads, bool outer)
{
    for (std::size_t i = 0; i < payloads.size() && out.ok(); ++i) {
        const bool last = i + 1 == payloads.size();
        GenericHeader generic;
        generic.next_payload = last ? PayloadType::none : payload_type(payloads[i + 1]);
        std::visit(
            [&](const auto& p) {
                using T = std::decay_t<decltype(p)>;
                if constexpr (is_encrypted<T>) {
                    if (!outer || !last)
                        return out.fail(ParseErrc::invalid_syntax);
                    generic.next_payload = p.first_payload;
                }
                if constexpr (std::is_same_v<T, UnknownPayload>) {
                    if (p.type == PayloadType::none || implemented(p.type))
                        return out.fail(ParseErrc::invalid_syntax);
                    generic.critical = p.critical;
                }
                const std::size_t start = out.position();
                GenericHeader::layout(generic, out);   // Payload Length patched below
                T::layout(p, out);
                const std::size_t length = out.position() - start;
                if (length > std::numeric_limits<std::uint16_t>::max())
                    return out.fail(ParseErrc::bad_length);
                out.writer().patch(start + 2, static_cast<std::uint16_t>(length));
            },
            payloads[i]);
    }
}

} // namespace

PayloadType payload_type(const Payload& payload) noexcept
{
    return std::visit([](const auto& p) { return p.type; }, payload);
}

const NotifyPayload* find_notify(std::span<const Payload> payloads, NotifyType type) noexcept
{
    for (const Payload& p : payloads)
        if (const auto* notify = std::get_if<NotifyPayload>(&p); notify && notify->notify_type == type)
            return notify;
    return nullptr;
}

const NotifyPayload* first_error(std::span<const Payload> payloads) noexcept
{
    for (const Payload& p : payloads)
        if (const auto* notify = std::get_if<NotifyPayload>(&p); notify && is_error(notify->notify_type))
            return notify;
    return nullptr;
}

std::expected<Header, ParseError> parse_header(std::span<const std::uint8_t> datagram) noexcept
{
    if (datagram.size() < limits::header_length)
        return std::unexpected(ParseError{ParseErrc::truncated});
    Header header;
    PayloadType first = PayloadType::none;
    std::uint32_t length = 0;
    Decoder in(datagram.first(limits::header_length));
    Header::layout(header, in, first, length);
    return header;
}

std::expected<Message, ParseError> parse(std::span<const std::uint8_t> datagram)
{
    if (datagram.size() < limits::header_length)
        return std::unexpected(ParseError{ParseErrc::truncated});
    Message message;
    PayloadType first = PayloadType::none;
    std::uint32_t length = 0;
    Decoder in(datagram.first(limits::header_length));
    Header::layout(message.header, in, first, length);
    // RFC 7296 section 2.5: another major version is answered, not parsed.
    if (message.header.major_version != 2)
        return std::unexpected(ParseError{ParseErrc::bad_version, message.header.major_version});
    if (length != datagram.size())
        return std::unexpected(ParseError{ParseErrc::bad_length});
    auto payloads = parse_chain(first, datagram.subspan(limits::header_length), true);
    if (!payloads)
        return std::unexpected(payloads.error());
    message.payloads = std::move(*payloads);
    return message;
}

std::vector<std::uint8_t> serialize(const Message& message)
{
    std::vector<std::uint8_t> bytes;
    Encoder out(bytes);
    PayloadType first = message.payloads.empty() ? PayloadType::none : payload_type(message.payloads.front());
    std::uint32_t length = 0;   // patched below
    Header::layout(message.header, out, first, length);
    encode_chain(out, message.payloads, true);
    if (!out.ok() || bytes.size() > std::numeric_limits<std::uint32_t>::max())
        return {};
    out.writer().patch(24, static_cast<std::uint32_t>(bytes.size()));
    return bytes;
}

std::expected<std::vector<Payload>, ParseError> parse_payload_chain(PayloadType first,
                                                                    std::span<const std::uint8_t> bytes)
{
    return parse_chain(first, bytes, false);
}

std::vector<std::uint8_t> serialize_payload_chain(std::span<const Payload> payloads)
{
    std::vector<std::uint8_t> bytes;
    Encoder out(bytes);
    encode_chain(out, payloads, false);
    if (!out.ok())
        return {};
    return bytes;
}

std::vector<std::uint8_t> associated_data(const Message& message, std::size_t body_length)
{
    if (message.payloads.empty())
        return {};
    // The SK or SKF payload's current body, and its fixed fields in front of it.
    const auto [body_now, fixed] = std::visit(
        [](const auto& p) -> std::pair<std::size_t, std::optional<std::size_t>> {
            if constexpr (is_encrypted<std::decay_t<decltype(p)>>)
                return {p.body.size(), p.fixed_length};
            return {0, std::nullopt};
        },
        message.payloads.back());
    if (!fixed)
        return {};
    std::vector<std::uint8_t> bytes = serialize(message);
    if (bytes.empty())
        return {};
    bytes.resize(bytes.size() - body_now);
    const std::size_t payload_length = limits::payload_header_length + *fixed + body_length;
    const std::size_t message_length = bytes.size() + body_length;
    if (payload_length > std::numeric_limits<std::uint16_t>::max() ||
        message_length > std::numeric_limits<std::uint32_t>::max())
        return {};
    wire::Writer patch(bytes);
    patch.patch(bytes.size() - *fixed - limits::payload_header_length + 2, static_cast<std::uint16_t>(payload_length));
    patch.patch(24, static_cast<std::uint32_t>(message_length));
    return bytes;
}

std::span<const std::uint8_t> associated_data(std::span<const std::uint8_t> datagram, std::size_t body_length) noexcept
{
    if (body_length > datagram.size())
        return {};
    return datagram.first(datagram.size() - body_length);
}

std::string_view to_string(ParseErrc code) noexcept
{
    switch (code) {
    case ParseErrc::truncated: return "truncated";
    case ParseErrc::bad_length: return "bad length";
    case ParseErrc::bad_version: return "unsupported major version";
    case ParseErrc::unsupported_critical: return "unsupported critical payload";
    case ParseErrc::too_many: return "too many elements";
    case ParseErrc::invalid_syntax: return "invalid syntax";
    }
    return "unknown error";
}

} // namespace mesh::ike
