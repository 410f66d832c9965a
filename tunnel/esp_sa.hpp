#pragma once
// One ESP security association and direction (RFC 4303), sealed and opened in
// place inside a PacketBuffer.
//
//   0                   1                   2                   3
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |               Security Parameters Index (SPI)                 |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                      Sequence Number (low 32 bits)            |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                     IV (8 bytes AEAD, 16 bytes CBC)           |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |          Payload (GRE packet or IP packet) ...                |
//   +               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |               |  Padding 1, 2, 3, ...  | Pad Len | Next Header|
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                    ICV (16 bytes, or the HMAC's truncation)   |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Each object belongs to exactly one data-plane thread (outbound: the TUN
// reader, inbound: the UDP reader), which is why the Botan cipher objects it
// owns need no lock. Counters are written by that thread only and read by the
// control thread, hence relaxed atomics without read-modify-write.

#include "tunnel/esp_algorithm.hpp"
#include "tunnel/packet_buffer.hpp"
#include "tunnel/replay_window.hpp"

#include <botan/secmem.h>

#include <atomic>
#include <cstdint>
#include <expected>
#include <memory>

namespace mesh::tunnel {

enum class EspError : std::uint8_t {
    truncated = 1,       // shorter than header + IV + trailer + ICV, or not block-aligned
    auth_failed,         // ICV mismatch
    replay,              // duplicate, or left of the anti-replay window
    bad_padding,         // padding bytes not 1, 2, 3, ... (RFC 4303 section 2.4) or pad length too long
    sequence_exhausted,  // the outbound counter reached its end; the SA must be rekeyed, never wrapped
    no_room,             // not enough headroom or tailroom in the buffer (a programming error)
};

struct SaParams {
    std::uint32_t spi = 0;
    EspCipher cipher = EspCipher::aes128_gcm;
    EspIntegrity integrity = EspIntegrity::none;   // CBC ciphers need one, AEADs must have none
    Botan::secure_vector<std::uint8_t> cipher_key; // AEADs: key || 4-byte salt
    Botan::secure_vector<std::uint8_t> integrity_key;
    bool esn = true;                               // 64-bit extended sequence numbers (RFC 4303 section 2.2.1)
    // The first sequence number an OutboundSa sends (RFC 4303 section 3.3.3: 1).
    // Only tests and rekey scenarios that start near the end of the space change it.
    std::uint64_t initial_sequence = 1;
};

// A counter with a single writer: load + store, no locked instruction.
class Counter {
public:
    void add(std::uint64_t n) noexcept { value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t get() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> value_{0};
};

// A counter that more than one worker may bump (a tunnel's inbound side,
// whose SAs may be steered to different workers while a rekey overlaps).
class SharedCounter {
public:
    void add(std::uint64_t n) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t get() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> value_{0};
};

struct SaCounters {
    Counter packets;
    Counter bytes;            // ESP payload bytes (the GRE packet in mode gre, the IP packet in mode ip)
    Counter auth_drops;
    Counter replay_drops;
    Counter malformed_drops;  // truncated, bad padding
};

class EspCrypto;   // the Botan objects of one SA direction (esp_crypto.hpp)

class OutboundSa {
public:
    // Throws std::invalid_argument for a key of the wrong length or a cipher/integrity mismatch.
    explicit OutboundSa(const SaParams& params);
    ~OutboundSa();
    OutboundSa(const OutboundSa&) = delete;
    OutboundSa& operator=(const OutboundSa&) = delete;

    // Before: packet.data() is the payload. After: it is the whole ESP packet,
    // SPI to ICV, ready for UDP. Needs header+IV bytes of headroom and
    // padding+trailer+ICV bytes of tailroom (see overhead()). Fails with
    // sequence_exhausted or no_room, leaving the packet as it was; auth_failed
    // would mean the cipher refused, which it never does for a valid SA.
    std::expected<void, EspError> seal(PacketBuffer& packet, std::uint8_t next_header) noexcept;
    // The same on a frame that is not a PacketBuffer (a slot of the send
    // batch): frame holds header_room() bytes of room, then payload_bytes of
    // payload, then room for padding, trailer and ICV. Returns the length of
    // the ESP packet, which starts at frame[0].
    std::expected<std::size_t, EspError> seal(std::span<std::uint8_t> frame, std::size_t payload_bytes,
                                              std::uint8_t next_header) noexcept;

    [[nodiscard]] std::uint32_t spi() const noexcept { return params_.spi; }
    [[nodiscard]] const SaParams& params() const noexcept { return params_; }
    [[nodiscard]] const SaCounters& counters() const noexcept { return counters_; }
    // The sequence number the next packet gets; 0 once the counter is used up
    // (after 2^64-1 with ESN, since 0 is never sent).
    [[nodiscard]] std::uint64_t next_sequence() const noexcept { return next_seq_.load(std::memory_order_relaxed); }
    // Bytes ESP adds to a payload of payload_bytes, padding included.
    [[nodiscard]] std::size_t overhead(std::size_t payload_bytes) const noexcept;
    // The largest overhead over all payload sizes, for MTU arithmetic.
    [[nodiscard]] std::size_t max_overhead() const noexcept;
    // Bytes in front of the payload: ESP header and IV.
    [[nodiscard]] std::size_t header_room() const noexcept;

private:
    SaParams params_;
    std::unique_ptr<EspCrypto> crypto_;
    std::atomic<std::uint64_t> next_seq_;
    SaCounters counters_;
};

class InboundSa {
public:
    explicit InboundSa(const SaParams& params);
    ~InboundSa();
    InboundSa(const InboundSa&) = delete;
    InboundSa& operator=(const InboundSa&) = delete;

    // Before: packet.data() is the ESP packet from its SPI to its ICV. After
    // success: packet.data() is the payload and the next-header value is
    // returned. The replay check runs before the ICV and the window only moves
    // after the ICV verifies. Every failure is counted here.
    std::expected<std::uint8_t, EspError> open(PacketBuffer& packet) noexcept;
    // The same on an ESP packet inside a larger buffer (one of several that
    // UDP GRO delivered together): decrypts in place and says where the
    // payload is.
    struct Opened {
        std::size_t payload_offset = 0;
        std::size_t payload_bytes = 0;
        std::uint8_t next_header = 0;
    };
    std::expected<Opened, EspError> open(std::span<std::uint8_t> esp) noexcept;

    [[nodiscard]] std::uint32_t spi() const noexcept { return params_.spi; }
    [[nodiscard]] const SaParams& params() const noexcept { return params_; }
    [[nodiscard]] const SaCounters& counters() const noexcept { return counters_; }
    // The highest authenticated sequence number.
    [[nodiscard]] std::uint64_t highest_sequence() const noexcept { return highest_seq_.load(std::memory_order_relaxed); }

    // Workers: one opens the SA at a time, so its window and cipher state
    // have one writer. The worker its SPI steers to holds it but for a
    // moment; ESP that reached another (a NIC's GRO merged datagrams of
    // several SAs from one peer; plain ESP, read by one worker) takes it
    // only when free. Never waits: false means drop the packet.
    [[nodiscard]] bool claim() noexcept { return !claimed_.exchange(true, std::memory_order_acquire); }
    void unclaim() noexcept { claimed_.store(false, std::memory_order_release); }

private:
    SaParams params_;
    std::atomic<bool> claimed_{false};
    std::unique_ptr<EspCrypto> crypto_;
    ReplayWindow window_;
    std::atomic<std::uint64_t> highest_seq_{0};
    SaCounters counters_;
};

} // namespace mesh::tunnel
