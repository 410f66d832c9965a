#include "ike/key_material.hpp"

#include "net/byte_order.hpp"

#include <botan/mem_ops.h>

#include <array>
#include <string_view>

namespace mesh::ike {

namespace {

using SecureBytes = Botan::secure_vector<std::uint8_t>;

std::array<std::uint8_t, 8> be64(std::uint64_t value) noexcept
{
    std::array<std::uint8_t, 8> out{};
    net::store_be64(out.data(), value);
    return out;
}

// Hands out consecutive slices of prf+ output.
class KeymatReader {
public:
    explicit KeymatReader(const SecureBytes& keymat) noexcept : keymat_(keymat) {}

    SecureBytes take(std::size_t bytes)
    {
        const auto* from = keymat_.data() + at_;
        at_ += bytes;
        return SecureBytes(from, from + bytes);
    }

private:
    const SecureBytes& keymat_;
    std::size_t at_ = 0;
};

// RFC 7296 section 2.15: the 17 ASCII characters, without a terminating NUL.
constexpr std::string_view key_pad = "Key Pad for IKEv2";

} // namespace

std::expected<IkeKeyLengths, CryptoError> ike_key_lengths(const IkeSuite& suite) noexcept
{
    const PrfInfo* prf = info(suite.prf);
    if (prf == nullptr || !is_consistent(suite.cipher, suite.integ))
        return std::unexpected(CryptoError::invalid_suite);
    return IkeKeyLengths{.prf = prf->output_bytes, .integ = info(suite.integ)->key_bytes,
                         .encr = info(suite.cipher).key_bytes};
}

SecureBytes skeyseed(Prf& prf, std::span<const std::uint8_t> ni, std::span<const std::uint8_t> nr,
                     std::span<const std::uint8_t> g_ir)
{
    // The key is Ni | Nr: join them, as prf takes one key.
    SecureBytes key(ni.begin(), ni.end());
    key.insert(key.end(), nr.begin(), nr.end());
    return prf.compute(key, {g_ir});
}

SecureBytes rekey_skeyseed(Prf& old_prf, std::span<const std::uint8_t> old_sk_d, std::span<const std::uint8_t> g_ir,
                           std::span<const std::uint8_t> ni, std::span<const std::uint8_t> nr)
{
    return old_prf.compute(old_sk_d, {g_ir, ni, nr});
}

std::expected<IkeSaKeys, CryptoError> derive_ike_sa_keys(Prf& prf, const IkeSuite& suite,
                                                         std::span<const std::uint8_t> seed_key,
                                                         std::span<const std::uint8_t> ni,
                                                         std::span<const std::uint8_t> nr, std::uint64_t spi_i,
                                                         std::uint64_t spi_r)
{
    if (prf.id() != suite.prf)
        return std::unexpected(CryptoError::invalid_suite);
    const auto lengths = ike_key_lengths(suite);
    if (!lengths)
        return std::unexpected(lengths.error());

    const auto spi_i_bytes = be64(spi_i);
    const auto spi_r_bytes = be64(spi_r);
    auto keymat = prf.plus(seed_key, {ni, nr, spi_i_bytes, spi_r_bytes}, lengths->total());
    if (!keymat)
        return std::unexpected(keymat.error());

    KeymatReader reader(*keymat);
    IkeSaKeys keys;
    keys.sk_d = reader.take(lengths->prf);
    keys.sk_ai = reader.take(lengths->integ);
    keys.sk_ar = reader.take(lengths->integ);
    keys.sk_ei = reader.take(lengths->encr);
    keys.sk_er = reader.take(lengths->encr);
    keys.sk_pi = reader.take(lengths->prf);
    keys.sk_pr = reader.take(lengths->prf);
    return keys;
}

std::expected<ChildSaKeys, CryptoError> derive_child_sa_keys(Prf& prf, std::span<const std::uint8_t> sk_d,
                                                             tunnel::EspCipher cipher, tunnel::EspIntegrity integrity,
                                                             std::span<const std::uint8_t> g_ir,
                                                             std::span<const std::uint8_t> ni,
                                                             std::span<const std::uint8_t> nr)
{
    const tunnel::EspCipherInfo& c = tunnel::info(cipher);
    if (c.aead != (integrity == tunnel::EspIntegrity::none))
        return std::unexpected(CryptoError::invalid_suite);
    const std::size_t encr_bytes = c.key_bytes;  // the salt included (RFC 4106 section 8.1, RFC 7634 section 2)
    const std::size_t integ_bytes = tunnel::info(integrity).key_bytes;

    // g_ir is empty without PFS: an empty part adds nothing to the seed.
    auto keymat = prf.plus(sk_d, {g_ir, ni, nr}, 2 * (encr_bytes + integ_bytes));
    if (!keymat)
        return std::unexpected(keymat.error());

    KeymatReader reader(*keymat);
    ChildSaKeys keys;
    keys.cipher = cipher;
    keys.integrity = integrity;
    keys.encr_i = reader.take(encr_bytes);
    keys.integ_i = reader.take(integ_bytes);
    keys.encr_r = reader.take(encr_bytes);
    keys.integ_r = reader.take(integ_bytes);
    return keys;
}

tunnel::SaParams child_sa_params(const ChildSaKeys& keys, ChildSaDirection direction, std::uint32_t spi, bool esn)
{
    const bool from_initiator = direction == ChildSaDirection::initiator_to_responder;
    tunnel::SaParams params;
    params.spi = spi;
    params.cipher = keys.cipher;
    params.integrity = keys.integrity;
    params.cipher_key = from_initiator ? keys.encr_i : keys.encr_r;
    params.integrity_key = from_initiator ? keys.integ_i : keys.integ_r;
    params.esn = esn;
    return params;
}

std::vector<std::uint8_t> signed_octets(Prf& prf, std::span<const std::uint8_t> real_message,
                                        std::span<const std::uint8_t> peer_nonce, std::span<const std::uint8_t> sk_p,
                                        std::span<const std::uint8_t> id_body)
{
    const SecureBytes maced_id = prf.compute(sk_p, {id_body});
    std::vector<std::uint8_t> out;
    out.reserve(real_message.size() + peer_nonce.size() + maced_id.size());
    out.insert(out.end(), real_message.begin(), real_message.end());
    out.insert(out.end(), peer_nonce.begin(), peer_nonce.end());
    out.insert(out.end(), maced_id.begin(), maced_id.end());
    return out;
}

SecureBytes psk_auth(Prf& prf, std::span<const std::uint8_t> shared_secret, std::span<const std::uint8_t> octets)
{
    const auto* pad = reinterpret_cast<const std::uint8_t*>(key_pad.data());
    const SecureBytes padded_key = prf.compute(shared_secret, {std::span(pad, key_pad.size())});
    return prf.compute(padded_key, {octets});
}

bool verify_psk_auth(Prf& prf, std::span<const std::uint8_t> shared_secret, std::span<const std::uint8_t> octets,
                     std::span<const std::uint8_t> received_auth)
{
    const SecureBytes expected = psk_auth(prf, shared_secret, octets);
    return received_auth.size() == expected.size() &&
           Botan::constant_time_compare(expected.data(), received_auth.data(), expected.size());
}

} // namespace mesh::ike
