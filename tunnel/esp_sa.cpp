// Seal (outbound, the TUN reader's thread):
//   sequence number -> trailer behind the payload -> header and IV in front
//   -> encrypt and ICV in place
// Open (inbound, the UDP reader's thread):
//   lengths -> replay check (infers the ESN) -> ICV and decrypt in place
//   -> padding -> window update -> strip header, IV, trailer and ICV

#include "tunnel/esp_sa.hpp"

#include "net/byte_order.hpp"
#include "tunnel/esp_crypto.hpp"

#include <cstdint>

namespace mesh::tunnel {

namespace {

constexpr std::size_t esp_header_bytes = EspCrypto::header_bytes;
constexpr std::size_t trailer_bytes = 2;  // pad length, next header
constexpr std::uint64_t max_sequence_32 = UINT32_MAX;

// RFC 4303 section 2.4: payload, padding and trailer end on a multiple of the
// cipher's block size, and on a 4-byte boundary for every cipher.
std::size_t padding_bytes(std::size_t payload_bytes, std::size_t block_bytes) noexcept
{
    return (block_bytes - (payload_bytes + trailer_bytes) % block_bytes) % block_bytes;
}

std::size_t icv_bytes(const SaParams& params) noexcept
{
    const EspCipherInfo& cipher = info(params.cipher);
    return cipher.aead ? cipher.icv_bytes : info(params.integrity).icv_bytes;
}

} // namespace

OutboundSa::OutboundSa(const SaParams& params)
    : params_(params)
    , crypto_(std::make_unique<EspCrypto>(params_, EspDirection::seal))
    , next_seq_(params.initial_sequence)
{
}

OutboundSa::~OutboundSa() = default;

std::size_t OutboundSa::overhead(std::size_t payload_bytes) const noexcept
{
    const EspCipherInfo& cipher = info(params_.cipher);
    return esp_header_bytes + cipher.iv_bytes + padding_bytes(payload_bytes, cipher.block_bytes) + trailer_bytes +
           icv_bytes(params_);
}

std::size_t OutboundSa::max_overhead() const noexcept
{
    const EspCipherInfo& cipher = info(params_.cipher);
    return esp_header_bytes + cipher.iv_bytes + (cipher.block_bytes - 1) + trailer_bytes + icv_bytes(params_);
}

std::size_t OutboundSa::header_room() const noexcept
{
    return esp_header_bytes + info(params_.cipher).iv_bytes;
}

std::expected<void, EspError> OutboundSa::seal(PacketBuffer& packet, std::uint8_t next_header) noexcept
{
    const std::size_t payload_bytes = packet.size();
    const std::size_t front = header_room();
    const std::size_t back = overhead(payload_bytes) - front;
    if (packet.headroom() < front || packet.tailroom() < back) [[unlikely]]
        return std::unexpected(EspError::no_room);
    const std::span<std::uint8_t> frame(packet.data().data() - front, front + payload_bytes + back);
    if (const auto sealed = seal(frame, payload_bytes, next_header); !sealed) [[unlikely]]
        return std::unexpected(sealed.error());
    packet.push_front(front);
    packet.push_back(back);
    return {};
}

std::expected<std::size_t, EspError> OutboundSa::seal(std::span<std::uint8_t> frame, std::size_t payload_bytes,
                                                      std::uint8_t next_header) noexcept
{
    // RFC 4303 section 3.3.3: the counter never wraps; 0 marks it used up.
    const std::uint64_t seq = next_seq_.load(std::memory_order_relaxed);
    if (seq == 0 || (!params_.esn && seq > max_sequence_32)) [[unlikely]]
        return std::unexpected(EspError::sequence_exhausted);

    const EspCipherInfo& cipher = info(params_.cipher);
    const std::size_t pad = padding_bytes(payload_bytes, cipher.block_bytes);
    const std::size_t front = esp_header_bytes + cipher.iv_bytes;
    const std::size_t esp_bytes = front + payload_bytes + pad + trailer_bytes + crypto_->icv_bytes();
    if (frame.size() < esp_bytes) [[unlikely]]
        return std::unexpected(EspError::no_room);

    // RFC 4303 section 2.4: padding bytes 1, 2, 3, ..., then its length and the next header.
    std::uint8_t* trailer = frame.data() + front + payload_bytes;
    for (std::size_t i = 0; i < pad; ++i)
        trailer[i] = static_cast<std::uint8_t>(i + 1);
    trailer[pad] = static_cast<std::uint8_t>(pad);
    trailer[pad + 1] = next_header;

    std::uint8_t* header = frame.data();
    net::store_be32(header, params_.spi);
    net::store_be32(header + 4, static_cast<std::uint32_t>(seq));
    crypto_->write_iv(seq, {header + esp_header_bytes, cipher.iv_bytes});

    // The number is spent even if the cipher refused, so no nonce is ever used twice.
    next_seq_.store(seq + 1, std::memory_order_relaxed);
    if (!crypto_->seal(frame.first(esp_bytes), seq)) [[unlikely]]
        return std::unexpected(EspError::auth_failed);  // unreachable with a valid SA
    counters_.packets.add(1);
    counters_.bytes.add(payload_bytes);
    return esp_bytes;
}

InboundSa::InboundSa(const SaParams& params)
    : params_(params)
    , crypto_(std::make_unique<EspCrypto>(params_, EspDirection::open))
    , window_(params.esn)
{
}

InboundSa::~InboundSa() = default;

std::expected<std::uint8_t, EspError> InboundSa::open(PacketBuffer& packet) noexcept
{
    const std::size_t esp_bytes = packet.size();
    const auto opened = open(packet.data());
    if (!opened) [[unlikely]]
        return std::unexpected(opened.error());
    packet.pull_front(opened->payload_offset);
    packet.trim_back(esp_bytes - opened->payload_offset - opened->payload_bytes);
    return opened->next_header;
}

std::expected<InboundSa::Opened, EspError> InboundSa::open(std::span<std::uint8_t> esp) noexcept
{
    const EspCipherInfo& cipher = info(params_.cipher);
    const std::size_t front = esp_header_bytes + cipher.iv_bytes;
    const std::size_t icv = crypto_->icv_bytes();
    // CBC ciphertext is whole blocks, at least one; an AEAD's holds at least
    // the trailer. Its 4-byte alignment is left unchecked: the ICV covers it.
    const std::size_t min_text = cipher.aead ? trailer_bytes : cipher.block_bytes;
    if (esp.size() < front + min_text + icv) [[unlikely]] {
        counters_.malformed_drops.add(1);
        return std::unexpected(EspError::truncated);
    }
    const std::size_t text_bytes = esp.size() - front - icv;
    if (!cipher.aead && text_bytes % cipher.block_bytes != 0) [[unlikely]] {
        counters_.malformed_drops.add(1);
        return std::unexpected(EspError::truncated);
    }

    // RFC 4303 section 3.4.3: the cheap replay check before the ICV.
    const auto seq = window_.check(net::load_be32(esp.data() + 4));
    if (!seq) [[unlikely]] {
        counters_.replay_drops.add(1);
        return std::unexpected(EspError::replay);
    }
    if (!crypto_->open(esp, *seq)) [[unlikely]] {
        counters_.auth_drops.add(1);
        return std::unexpected(EspError::auth_failed);
    }

    const std::uint8_t* trailer = esp.data() + front + text_bytes - trailer_bytes;
    const std::size_t pad = trailer[0];
    const std::uint8_t next_header = trailer[1];
    if (pad + trailer_bytes > text_bytes) [[unlikely]] {
        counters_.malformed_drops.add(1);
        return std::unexpected(EspError::bad_padding);
    }
    // RFC 4303 section 2.4: the receiver checks the padding's default contents.
    const std::uint8_t* padding = trailer - pad;
    std::uint8_t mismatch = 0;
    for (std::size_t i = 0; i < pad; ++i)
        mismatch |= static_cast<std::uint8_t>(padding[i] ^ static_cast<std::uint8_t>(i + 1));
    if (mismatch != 0) [[unlikely]] {
        counters_.malformed_drops.add(1);
        return std::unexpected(EspError::bad_padding);
    }

    window_.accept(*seq);
    highest_seq_.store(window_.highest(), std::memory_order_relaxed);
    const std::size_t payload_bytes = text_bytes - pad - trailer_bytes;
    counters_.packets.add(1);
    counters_.bytes.add(payload_bytes);
    return Opened{front, payload_bytes, next_header};
}

} // namespace mesh::tunnel
