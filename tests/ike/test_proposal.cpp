// Proposals from policy, the responder's choice, the initiator's check of the
// answer and the log text (RFC 7296 sections 2.7, 3.3). Offers travel through
// the codec, as they would between two daemons.

#include "ike/message.hpp"
#include "ike/proposal.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

using namespace mesh::ike;
using mesh::tunnel::EspCipher;
using mesh::tunnel::EspIntegrity;

namespace {

template <class E>
std::uint16_t id(E e)
{
    return static_cast<std::uint16_t>(e);
}

Transform T(TransformType type, std::uint16_t transform_id)
{
    return Transform{type, transform_id, {}};
}

Transform encr(EncrId e, std::uint16_t bits)
{
    return Transform::with_key_length(TransformType::encr, id(e), bits);
}

Proposal ike_proposal(std::uint8_t number, std::vector<Transform> transforms)
{
    return Proposal{number, ProtocolId::ike, {}, std::move(transforms)};
}

Proposal esp_proposal(std::uint8_t number, std::vector<Transform> transforms)
{
    return Proposal{number, ProtocolId::esp, {0xc0, 0x01, 0x02, 0x03}, std::move(transforms)};
}

// The SA payload as the peer receives it: serialized in an IKE_SA_INIT and parsed.
SaPayload through_codec(const SaPayload& sa)
{
    Message m;
    m.header.spi_i = 0x0102030405060708;
    m.header.initiator = true;
    m.payloads = {sa};
    const std::vector<std::uint8_t> bytes = serialize(m);
    REQUIRE(!bytes.empty());
    const auto parsed = parse(bytes);
    REQUIRE(parsed.has_value());
    const SaPayload* out = parsed->find<SaPayload>();
    REQUIRE(out != nullptr);
    return *out;
}

IkePolicy profile()
{
    IkePolicy p;
    p.ciphers = {IkeCipher::aes256_gcm, IkeCipher::aes128_gcm, IkeCipher::aes256_cbc, IkeCipher::aes128_cbc,
                 IkeCipher::chacha20_poly1305};
    p.prfs = {PrfId::hmac_sha2_256, PrfId::hmac_sha2_384};
    p.dh_groups = {DhGroup::ecp256, DhGroup::modp2048};
    return p;
}

ChildPolicy proposal_policy()
{
    ChildPolicy p;
    p.ciphers = {EspCipher::aes256_gcm, EspCipher::aes128_gcm, EspCipher::aes256_cbc};
    p.integrities = {EspIntegrity::hmac_sha256_128};
    p.pfs_groups = {DhGroup::ecp256};
    return p;
}

// The types of a proposal's transforms, in order.
std::vector<TransformType> types(const Proposal& p)
{
    std::vector<TransformType> out;
    for (const Transform& t : p.transforms)
        out.push_back(t.type);
    return out;
}

void check_one_of_each_type(const SaPayload& reply)
{
    REQUIRE(reply.proposals.size() == 1);
    const std::vector<TransformType> t = types(reply.proposals[0]);
    for (std::size_t i = 0; i < t.size(); ++i)
        for (std::size_t j = i + 1; j < t.size(); ++j)
            CHECK(t[i] != t[j]);
}

} // namespace

// ---------------------------------------------------------------------------
// Offers

TEST_CASE("ike_proposals: AEAD and CBC ciphers in separate proposals, integrity from the PRFs")
{
    const SaPayload sa = ike_proposals(profile());
    REQUIRE(sa.proposals.size() == 2);
    CHECK(is_valid(sa));

    const Proposal& aead = sa.proposals[0];
    CHECK(aead.number == 1);
    CHECK(aead.protocol_id == ProtocolId::ike);
    CHECK(aead.spi.empty());
    CHECK(aead.transforms == std::vector<Transform>{
                                 encr(EncrId::aes_gcm_16, 256), encr(EncrId::aes_gcm_16, 128),
                                 T(TransformType::encr, id(EncrId::chacha20_poly1305)),
                                 T(TransformType::prf, id(PrfId::hmac_sha2_256)),
                                 T(TransformType::prf, id(PrfId::hmac_sha2_384)),
                                 T(TransformType::dh, id(DhGroup::ecp256)), T(TransformType::dh, id(DhGroup::modp2048))});

    const Proposal& cbc = sa.proposals[1];
    CHECK(cbc.number == 2);
    CHECK(cbc.transforms == std::vector<Transform>{
                                encr(EncrId::aes_cbc, 256), encr(EncrId::aes_cbc, 128),
                                T(TransformType::integ, id(IntegId::hmac_sha2_256_128)),
                                T(TransformType::integ, id(IntegId::hmac_sha2_384_192)),
                                T(TransformType::prf, id(PrfId::hmac_sha2_256)),
                                T(TransformType::prf, id(PrfId::hmac_sha2_384)),
                                T(TransformType::dh, id(DhGroup::ecp256)), T(TransformType::dh, id(DhGroup::modp2048))});
}

TEST_CASE("ike_proposals: the CBC proposal comes first when the first cipher is CBC; a rekey carries the SPI")
{
    IkePolicy p = profile();
    p.ciphers = {IkeCipher::aes128_cbc, IkeCipher::aes128_gcm};
    const std::vector<std::uint8_t> spi{1, 2, 3, 4, 5, 6, 7, 8};
    const SaPayload sa = ike_proposals(p, spi);
    REQUIRE(sa.proposals.size() == 2);
    CHECK(sa.proposals[0].transforms.front() == encr(EncrId::aes_cbc, 128));
    CHECK(sa.proposals[1].transforms.front() == encr(EncrId::aes_gcm_16, 128));
    CHECK(sa.proposals[0].spi == spi);
    CHECK(sa.proposals[1].spi == spi);

    p.ciphers = {IkeCipher::aes256_gcm};
    CHECK(ike_proposals(p).proposals.size() == 1);
}

TEST_CASE("ike_proposals and child_proposals: round trip through serialize and parse")
{
    const SaPayload ike = ike_proposals(profile());
    CHECK(through_codec(ike) == ike);
    const SaPayload ike_rekey = ike_proposals(profile(), std::vector<std::uint8_t>(8, 0xab));
    CHECK(through_codec(ike_rekey) == ike_rekey);
    const SaPayload esp = child_proposals(proposal_policy(), 0xc0010203, true);
    CHECK(through_codec(esp) == esp);
}

TEST_CASE("child_proposals: ESP with our SPI, ESN 1 then 0, DH only with PFS")
{
    const SaPayload auth = child_proposals(proposal_policy(), 0xc0010203, false);
    REQUIRE(auth.proposals.size() == 2);
    CHECK(is_valid(auth));
    const Proposal& aead = auth.proposals[0];
    CHECK(aead.protocol_id == ProtocolId::esp);
    CHECK(aead.spi == std::vector<std::uint8_t>{0xc0, 0x01, 0x02, 0x03});
    CHECK(aead.transforms ==
          std::vector<Transform>{encr(EncrId::aes_gcm_16, 256), encr(EncrId::aes_gcm_16, 128),
                                 T(TransformType::esn, 1), T(TransformType::esn, 0)});
    const Proposal& cbc = auth.proposals[1];
    CHECK(cbc.number == 2);
    CHECK(cbc.transforms == std::vector<Transform>{encr(EncrId::aes_cbc, 256),
                                                   T(TransformType::integ, id(IntegId::hmac_sha2_256_128)),
                                                   T(TransformType::esn, 1), T(TransformType::esn, 0)});

    const SaPayload rekey = child_proposals(proposal_policy(), 0xc0010203, true);
    CHECK(types(rekey.proposals[0]) == std::vector<TransformType>{TransformType::encr, TransformType::encr,
                                                                  TransformType::dh, TransformType::esn,
                                                                  TransformType::esn});
    CHECK(rekey.proposals[0].transforms[2] == T(TransformType::dh, id(DhGroup::ecp256)));

    ChildPolicy no_pfs = proposal_policy();
    no_pfs.pfs_groups.clear();
    CHECK(child_proposals(no_pfs, 1, true) == child_proposals(no_pfs, 1, false));
}

// ---------------------------------------------------------------------------
// Responder's choice

TEST_CASE("choose_ike: our order of preference wins over the peer's")
{
    // The peer prefers CBC and modp2048; we prefer AES-256-GCM, sha256, ecp256.
    IkePolicy peer = profile();
    peer.ciphers = {IkeCipher::aes128_cbc, IkeCipher::aes256_gcm};
    peer.prfs = {PrfId::hmac_sha2_384, PrfId::hmac_sha2_256};
    peer.dh_groups = {DhGroup::modp2048, DhGroup::ecp256};
    const SaPayload offer = through_codec(ike_proposals(peer));
    REQUIRE(offer.proposals.size() == 2);

    const auto chosen = choose_ike(offer, profile());
    REQUIRE(chosen.has_value());
    CHECK(chosen->suite == IkeSuite{IkeCipher::aes256_gcm, PrfId::hmac_sha2_256, IntegId::none, DhGroup::ecp256});
    CHECK(chosen->peer_spi == 0);   // none in IKE_SA_INIT
    check_one_of_each_type(chosen->reply);
    const Proposal& reply = chosen->reply.proposals[0];
    CHECK(reply.number == 2);   // the AEAD proposal was the peer's second
    CHECK(reply.spi.empty());
    CHECK(reply.transforms == std::vector<Transform>{encr(EncrId::aes_gcm_16, 256),
                                                     T(TransformType::prf, id(PrfId::hmac_sha2_256)),
                                                     T(TransformType::dh, id(DhGroup::ecp256))});

    // The peer accepts the answer, and both agree on the suite.
    const auto accepted = accept_ike_reply(through_codec(chosen->reply), peer);
    REQUIRE(accepted.has_value());
    CHECK(accepted->suite == chosen->suite);
}

TEST_CASE("choose_ike: CBC gets the integrity of our order and a rekey's SPIs pass through")
{
    IkePolicy ours = profile();
    ours.ciphers = {IkeCipher::aes128_cbc};
    ours.prfs = {PrfId::hmac_sha2_384, PrfId::hmac_sha2_256};
    const std::vector<std::uint8_t> peer_spi(8, 0x11);
    const std::vector<std::uint8_t> our_spi(8, 0x22);
    const SaPayload offer = through_codec(ike_proposals(profile(), peer_spi));

    const auto chosen = choose_ike(offer, ours, DhGroup::none, our_spi);
    REQUIRE(chosen.has_value());
    CHECK(chosen->suite ==
          IkeSuite{IkeCipher::aes128_cbc, PrfId::hmac_sha2_384, IntegId::hmac_sha2_384_192, DhGroup::ecp256});
    CHECK(chosen->peer_spi == 0x1111111111111111);
    CHECK(chosen->reply.proposals[0].spi == our_spi);
    CHECK(types(chosen->reply.proposals[0]) == std::vector<TransformType>{TransformType::encr, TransformType::integ,
                                                                          TransformType::prf, TransformType::dh});
    const auto accepted = accept_ike_reply(chosen->reply, profile());
    REQUIRE(accepted.has_value());
    CHECK(accepted->suite == chosen->suite);
    CHECK(accepted->peer_spi == 0x2222222222222222);
}

TEST_CASE("choose_ike: an AEAD beside integrity is refused")
{
    const SaPayload offer{{ike_proposal(1, {encr(EncrId::aes_gcm_16, 256),
                                            T(TransformType::integ, id(IntegId::hmac_sha2_256_128)),
                                            T(TransformType::prf, id(PrfId::hmac_sha2_256)),
                                            T(TransformType::dh, id(DhGroup::ecp256))})}};
    CHECK(!choose_ike(offer, profile()).has_value());

    // A proposal mixing both kinds of cipher yields its CBC one.
    SaPayload mixed = offer;
    mixed.proposals[0].transforms.insert(mixed.proposals[0].transforms.begin() + 1, encr(EncrId::aes_cbc, 128));
    const auto chosen = choose_ike(mixed, profile());
    REQUIRE(chosen.has_value());
    CHECK(chosen->suite.cipher == IkeCipher::aes128_cbc);
    CHECK(chosen->suite.integ == IntegId::hmac_sha2_256_128);

    // INTEG NONE beside an AEAD is no integrity: accepted, and left out of the answer.
    SaPayload none = offer;
    none.proposals[0].transforms[1].id = id(IntegId::none);
    const auto aead = choose_ike(none, profile());
    REQUIRE(aead.has_value());
    CHECK(aead->suite.cipher == IkeCipher::aes256_gcm);
    CHECK(types(aead->reply.proposals[0]) ==
          std::vector<TransformType>{TransformType::encr, TransformType::prf, TransformType::dh});
}

TEST_CASE("choose_ike: a proposal missing a mandatory transform type is skipped")
{
    const Transform gcm = encr(EncrId::aes_gcm_16, 256);
    const Transform cbc = encr(EncrId::aes_cbc, 256);
    const Transform prf = T(TransformType::prf, id(PrfId::hmac_sha2_256));
    const Transform integ = T(TransformType::integ, id(IntegId::hmac_sha2_256_128));
    const Transform dh = T(TransformType::dh, id(DhGroup::ecp256));

    CHECK(!choose_ike(SaPayload{{ike_proposal(1, {gcm, prf})}}, profile()).has_value());        // no DH
    CHECK(!choose_ike(SaPayload{{ike_proposal(1, {gcm, dh})}}, profile()).has_value());         // no PRF
    CHECK(!choose_ike(SaPayload{{ike_proposal(1, {prf, dh})}}, profile()).has_value());         // no ENCR
    CHECK(!choose_ike(SaPayload{{ike_proposal(1, {cbc, prf, dh})}}, profile()).has_value());    // CBC, no INTEG

    // The incomplete ones are passed over for a complete one, even one we like less.
    const SaPayload offer{{ike_proposal(1, {gcm, prf}), ike_proposal(2, {cbc, integ, prf, dh})}};
    const auto chosen = choose_ike(offer, profile());
    REQUIRE(chosen.has_value());
    CHECK(chosen->reply.proposals[0].number == 2);
    CHECK(chosen->suite.cipher == IkeCipher::aes256_cbc);
}

TEST_CASE("choose_ike: unknown transform IDs are skipped, unknown types and attributes refused")
{
    const Transform prf = T(TransformType::prf, id(PrfId::hmac_sha2_256));
    const Transform dh = T(TransformType::dh, id(DhGroup::ecp256));

    // 3DES (3), PRF_HMAC_SHA1 (2) and MODP-1024 (2) beside ones we know.
    const SaPayload unknown_ids{{ike_proposal(
        1, {T(TransformType::encr, 3), encr(EncrId::aes_gcm_16, 128), T(TransformType::prf, 2), prf,
            T(TransformType::dh, 2), dh})}};
    const auto chosen = choose_ike(through_codec(unknown_ids), profile());
    REQUIRE(chosen.has_value());
    CHECK(chosen->suite == IkeSuite{IkeCipher::aes128_gcm, PrfId::hmac_sha2_256, IntegId::none, DhGroup::ecp256});

    // Only unknown IDs of a type: nothing to choose.
    const SaPayload only_unknown{{ike_proposal(1, {T(TransformType::encr, 3), prf, dh})}};
    CHECK(!choose_ike(only_unknown, profile()).has_value());

    // A transform type we do not understand makes the whole proposal unacceptable (section 3.3.6).
    const SaPayload unknown_type{
        {ike_proposal(1, {encr(EncrId::aes_gcm_16, 256), prf, dh, T(static_cast<TransformType>(6), 1)})}};
    CHECK(!choose_ike(unknown_type, profile()).has_value());

    // ESN is not a type of IKE.
    CHECK(!choose_ike(SaPayload{{ike_proposal(1, {encr(EncrId::aes_gcm_16, 256), prf, dh, T(TransformType::esn, 0)})}},
                      profile())
               .has_value());

    // AES without a Key Length, or with a length we do not use, or with another attribute.
    Transform odd_attribute = encr(EncrId::aes_gcm_16, 256);
    odd_attribute.attributes.push_back(TransformAttribute{99, true, 1, {}});
    for (const Transform& bad : {T(TransformType::encr, id(EncrId::aes_gcm_16)), encr(EncrId::aes_gcm_16, 192),
                                 odd_attribute})
        CHECK(!choose_ike(SaPayload{{ike_proposal(1, {bad, prf, dh})}}, profile()).has_value());

    // A proposal of another protocol.
    CHECK(!choose_ike(SaPayload{{esp_proposal(1, {encr(EncrId::aes_gcm_16, 256), prf, dh})}}, profile()).has_value());
}

TEST_CASE("choose_ike: the KE payload's group is taken when the chosen proposal and our policy both have it")
{
    const SaPayload offer = through_codec(ike_proposals(profile()));   // DH ecp256, modp2048
    CHECK(choose_ike(offer, profile())->suite.dh == DhGroup::ecp256);
    CHECK(choose_ike(offer, profile(), DhGroup::modp2048)->suite.dh == DhGroup::modp2048);
    CHECK(choose_ike(offer, profile(), DhGroup::modp2048)->reply.proposals[0].transforms.back() ==
          T(TransformType::dh, id(DhGroup::modp2048)));
    // curve25519 is neither offered nor ours: our first choice stands.
    CHECK(choose_ike(offer, profile(), DhGroup::curve25519)->suite.dh == DhGroup::ecp256);
}

TEST_CASE("INVALID_KE_PAYLOAD: the responder asks for the chosen group, the initiator retries with it")
{
    // The initiator offers modp2048 and ecp256 and sends its KE in modp2048;
    // the responder accepts ecp256 only.
    IkePolicy initiator = profile();
    initiator.dh_groups = {DhGroup::modp2048, DhGroup::ecp256};
    IkePolicy responder = profile();
    responder.dh_groups = {DhGroup::ecp256};

    const auto chosen = choose_ike(through_codec(ike_proposals(initiator)), responder, DhGroup::modp2048);
    REQUIRE(chosen.has_value());
    CHECK(chosen->suite.dh == DhGroup::ecp256);
    const auto wanted = invalid_ke_group(chosen->suite.dh, DhGroup::modp2048);
    REQUIRE(wanted.has_value());
    CHECK(*wanted == DhGroup::ecp256);
    CHECK(!invalid_ke_group(DhGroup::ecp256, DhGroup::ecp256).has_value());

    const NotifyPayload notify = invalid_ke_payload(*wanted);
    CHECK(notify.notify_type == NotifyType::invalid_ke_payload);
    CHECK(notify.protocol_id == ProtocolId::none);
    CHECK(notify.spi.empty());
    CHECK(notify.data == std::vector<std::uint8_t>{0x00, 0x13});

    // The initiator's side: retry with a group it offered, never the one it sent, never one it did not offer.
    CHECK(retry_group(notify, initiator.dh_groups, DhGroup::modp2048) == DhGroup::ecp256);
    CHECK(!retry_group(notify, initiator.dh_groups, DhGroup::ecp256).has_value());
    CHECK(!retry_group(invalid_ke_payload(DhGroup::curve25519), initiator.dh_groups, DhGroup::modp2048).has_value());
    NotifyPayload truncated = notify;
    truncated.data.pop_back();
    CHECK(!retry_group(truncated, initiator.dh_groups, DhGroup::modp2048).has_value());
}

TEST_CASE("choose_child: ESP by our order, ESN preferred, SPIs both ways")
{
    ChildPolicy peer = proposal_policy();
    peer.ciphers = {EspCipher::aes256_cbc, EspCipher::aes128_gcm, EspCipher::aes256_gcm};
    const SaPayload offer = through_codec(child_proposals(peer, 0x11223344, false));

    const auto chosen = choose_child(offer, proposal_policy(), false, 0xc0ffee01);
    REQUIRE(chosen.has_value());
    CHECK(chosen->suite == ChildSuite{EspCipher::aes256_gcm, EspIntegrity::none, DhGroup::none, true});
    CHECK(chosen->peer_spi == 0x11223344);
    check_one_of_each_type(chosen->reply);
    CHECK(chosen->reply.proposals[0].number == 2);
    CHECK(chosen->reply.proposals[0].spi == std::vector<std::uint8_t>{0xc0, 0xff, 0xee, 0x01});
    CHECK(chosen->reply.proposals[0].transforms ==
          std::vector<Transform>{encr(EncrId::aes_gcm_16, 256), T(TransformType::esn, 1)});

    const auto accepted = accept_child_reply(through_codec(chosen->reply), peer, false);
    REQUIRE(accepted.has_value());
    CHECK(accepted->suite == chosen->suite);
    CHECK(accepted->peer_spi == 0xc0ffee01);

    // A peer that offers 32-bit sequence numbers only gets them.
    const SaPayload no_esn{{esp_proposal(1, {encr(EncrId::aes_gcm_16, 128), T(TransformType::esn, 0)})}};
    CHECK(choose_child(no_esn, proposal_policy(), false, 1)->suite.esn == false);
}

TEST_CASE("choose_child: DH ignored in IKE_AUTH, one of our PFS groups required in CREATE_CHILD_SA")
{
    const Transform gcm = encr(EncrId::aes_gcm_16, 128);
    const Transform esn = T(TransformType::esn, 1);
    const Transform modp = T(TransformType::dh, id(DhGroup::modp2048));
    const Transform ecp = T(TransformType::dh, id(DhGroup::ecp256));

    // IKE_AUTH: a DH transform the peer sends anyway is ignored and not answered.
    const auto auth = choose_child(SaPayload{{esp_proposal(1, {gcm, modp, esn})}}, proposal_policy(), false, 1);
    REQUIRE(auth.has_value());
    CHECK(auth->suite.pfs == DhGroup::none);
    CHECK(types(auth->reply.proposals[0]) == std::vector<TransformType>{TransformType::encr, TransformType::esn});

    // CREATE_CHILD_SA with PFS: our group, or nothing.
    const auto pfs = choose_child(SaPayload{{esp_proposal(1, {gcm, modp, ecp, esn})}}, proposal_policy(), true, 1);
    REQUIRE(pfs.has_value());
    CHECK(pfs->suite.pfs == DhGroup::ecp256);
    CHECK(types(pfs->reply.proposals[0]) ==
          std::vector<TransformType>{TransformType::encr, TransformType::dh, TransformType::esn});
    CHECK(!choose_child(SaPayload{{esp_proposal(1, {gcm, modp, esn})}}, proposal_policy(), true, 1).has_value());
    CHECK(!choose_child(SaPayload{{esp_proposal(1, {gcm, esn})}}, proposal_policy(), true, 1).has_value());

    // Without PFS of our own: a proposal without DH, or with NONE among its groups.
    ChildPolicy no_pfs = proposal_policy();
    no_pfs.pfs_groups.clear();
    CHECK(choose_child(SaPayload{{esp_proposal(1, {gcm, esn})}}, no_pfs, true, 1)->suite.pfs == DhGroup::none);
    const Transform none = T(TransformType::dh, 0);
    CHECK(choose_child(SaPayload{{esp_proposal(1, {gcm, ecp, none, esn})}}, no_pfs, true, 1)->suite.pfs ==
          DhGroup::none);
    CHECK(!choose_child(SaPayload{{esp_proposal(1, {gcm, ecp, esn})}}, no_pfs, true, 1).has_value());

    // The KE payload's group, when acceptable, is preferred to our first.
    ChildPolicy two = proposal_policy();
    two.pfs_groups = {DhGroup::ecp256, DhGroup::modp2048};
    const SaPayload both{{esp_proposal(1, {gcm, modp, ecp, esn})}};
    CHECK(choose_child(both, two, true, 1)->suite.pfs == DhGroup::ecp256);
    CHECK(choose_child(both, two, true, 1, DhGroup::modp2048)->suite.pfs == DhGroup::modp2048);
}

TEST_CASE("choose_child: mandatory types, AEAD beside integrity, SPI size")
{
    const Transform gcm = encr(EncrId::aes_gcm_16, 256);
    const Transform cbc = encr(EncrId::aes_cbc, 256);
    const Transform sha256 = T(TransformType::integ, id(IntegId::hmac_sha2_256_128));
    const Transform esn = T(TransformType::esn, 1);

    CHECK(!choose_child(SaPayload{{esp_proposal(1, {gcm, sha256, esn})}}, proposal_policy(), false, 1).has_value());
    CHECK(!choose_child(SaPayload{{esp_proposal(1, {gcm})}}, proposal_policy(), false, 1).has_value());   // no ESN
    CHECK(!choose_child(SaPayload{{esp_proposal(1, {cbc, esn})}}, proposal_policy(), false, 1).has_value());
    CHECK(!choose_child(SaPayload{{esp_proposal(1, {gcm, T(TransformType::prf, 5), esn})}}, proposal_policy(), false,
                        1)
               .has_value());
    // sha512 is not in our auth-algorithms.
    CHECK(!choose_child(SaPayload{{esp_proposal(1, {cbc, T(TransformType::integ, id(IntegId::hmac_sha2_512_256)),
                                                    esn})}},
                        proposal_policy(), false, 1)
               .has_value());

    const auto cbc_chosen = choose_child(SaPayload{{esp_proposal(1, {cbc, sha256, esn})}}, proposal_policy(), false, 1);
    REQUIRE(cbc_chosen.has_value());
    CHECK(cbc_chosen->suite == ChildSuite{EspCipher::aes256_cbc, EspIntegrity::hmac_sha256_128, DhGroup::none, true});

    Proposal ike_spi = esp_proposal(1, {gcm, esn});
    ike_spi.spi.resize(8);
    CHECK(!choose_child(SaPayload{{ike_spi}}, proposal_policy(), false, 1).has_value());
}

// ---------------------------------------------------------------------------
// Initiator's check of the answer

TEST_CASE("accept_ike_reply: one proposal, one transform of each type, all of it offered")
{
    const IkePolicy ours = profile();
    const Transform gcm = encr(EncrId::aes_gcm_16, 256);
    const Transform prf = T(TransformType::prf, id(PrfId::hmac_sha2_256));
    const Transform dh = T(TransformType::dh, id(DhGroup::ecp256));
    const Proposal good = ike_proposal(1, {gcm, prf, dh});

    const auto accepted = accept_ike_reply(SaPayload{{good}}, ours);
    REQUIRE(accepted.has_value());
    CHECK(accepted->suite == IkeSuite{IkeCipher::aes256_gcm, PrfId::hmac_sha2_256, IntegId::none, DhGroup::ecp256});

    CHECK(accept_ike_reply(SaPayload{{good, ike_proposal(2, {gcm, prf, dh})}}, ours).error() ==
          ReplyErrc::not_one_proposal);
    CHECK(accept_ike_reply(SaPayload{{ike_proposal(1, {gcm, encr(EncrId::aes_gcm_16, 128), prf, dh})}}, ours)
              .error() == ReplyErrc::duplicate_transform);
    CHECK(accept_ike_reply(SaPayload{{ike_proposal(1, {gcm, prf})}}, ours).error() == ReplyErrc::missing_transform);
    CHECK(accept_ike_reply(SaPayload{{ike_proposal(1, {encr(EncrId::aes_cbc, 256), prf, dh})}}, ours).error() ==
          ReplyErrc::missing_transform);
    CHECK(accept_ike_reply(SaPayload{{ike_proposal(1, {gcm, prf, T(TransformType::dh, id(DhGroup::curve25519))})}},
                           ours)
              .error() == ReplyErrc::not_offered);
    // AES-GCM with integrity: no proposal of ours held both.
    CHECK(accept_ike_reply(SaPayload{{ike_proposal(1, {gcm, T(TransformType::integ, id(IntegId::hmac_sha2_256_128)),
                                                       prf, dh})}},
                           ours)
              .error() == ReplyErrc::not_offered);
    CHECK(accept_ike_reply(SaPayload{{esp_proposal(1, {gcm, prf, dh})}}, ours).error() == ReplyErrc::wrong_protocol);
    Proposal odd_spi = good;
    odd_spi.spi = {1, 2, 3, 4};
    CHECK(accept_ike_reply(SaPayload{{odd_spi}}, ours).error() == ReplyErrc::bad_spi);
    CHECK(accept_ike_reply(SaPayload{}, ours).error() == ReplyErrc::not_one_proposal);
    CHECK(!to_string(ReplyErrc::not_offered).empty());
}

TEST_CASE("accept_child_reply: ESN and PFS as offered, NONE taken as absent")
{
    const ChildPolicy ours = proposal_policy();
    const Transform gcm = encr(EncrId::aes_gcm_16, 128);
    const Transform ecp = T(TransformType::dh, id(DhGroup::ecp256));

    const auto no_esn = accept_child_reply(SaPayload{{esp_proposal(1, {gcm, T(TransformType::esn, 0)})}}, ours, false);
    REQUIRE(no_esn.has_value());
    CHECK(no_esn->suite == ChildSuite{EspCipher::aes128_gcm, EspIntegrity::none, DhGroup::none, false});
    CHECK(no_esn->peer_spi == 0xc0010203);

    // IKE_AUTH: DH NONE tolerated, a real group was never offered.
    CHECK(accept_child_reply(SaPayload{{esp_proposal(1, {gcm, T(TransformType::dh, 0), T(TransformType::esn, 1)})}},
                             ours, false)
              .has_value());
    CHECK(accept_child_reply(SaPayload{{esp_proposal(1, {gcm, ecp, T(TransformType::esn, 1)})}}, ours, false).error() ==
          ReplyErrc::not_offered);

    // CREATE_CHILD_SA with PFS: the group must be there.
    const auto pfs = accept_child_reply(SaPayload{{esp_proposal(1, {gcm, ecp, T(TransformType::esn, 1)})}}, ours, true);
    REQUIRE(pfs.has_value());
    CHECK(pfs->suite.pfs == DhGroup::ecp256);
    CHECK(accept_child_reply(SaPayload{{esp_proposal(1, {gcm, T(TransformType::esn, 1)})}}, ours, true).error() ==
          ReplyErrc::missing_transform);

    CHECK(accept_child_reply(SaPayload{{esp_proposal(1, {gcm})}}, ours, false).error() == ReplyErrc::missing_transform);
    Proposal no_spi = esp_proposal(1, {gcm, T(TransformType::esn, 1)});
    no_spi.spi.clear();
    CHECK(accept_child_reply(SaPayload{{no_spi}}, ours, false).error() == ReplyErrc::bad_spi);
}

// ---------------------------------------------------------------------------
// Log text

TEST_CASE("describe: proposals, policies and the no-proposal line")
{
    IkePolicy ike;
    ike.ciphers = {IkeCipher::aes256_gcm, IkeCipher::aes256_cbc};
    ike.prfs = {PrfId::hmac_sha2_256};
    ike.dh_groups = {DhGroup::ecp256, DhGroup::modp2048};
    CHECK(describe(ike) ==
          "IKE:aes-256-gcm/prf-sha256/ecp256/modp2048, IKE:aes-256-cbc/sha256/prf-sha256/ecp256/modp2048");
    CHECK(describe(ike_proposals(ike)) == describe(ike));

    CHECK(describe(proposal_policy(), false) ==
          "ESP:aes-256-gcm/aes-128-gcm/esn/no-esn, ESP:aes-256-cbc/sha256/esn/no-esn");
    CHECK(describe(proposal_policy(), true) ==
          "ESP:aes-256-gcm/aes-128-gcm/ecp256/esn/no-esn, ESP:aes-256-cbc/sha256/ecp256/esn/no-esn");

    // The order of types is fixed whatever the order on the wire.
    const SaPayload theirs{{ike_proposal(1, {T(TransformType::dh, id(DhGroup::modp2048)),
                                             T(TransformType::prf, id(PrfId::hmac_sha2_512)),
                                             T(TransformType::integ, id(IntegId::hmac_sha2_512_256)),
                                             encr(EncrId::aes_cbc, 128)})}};
    CHECK(describe(theirs) == "IKE:aes-128-cbc/sha512/prf-sha512/modp2048");

    IkePolicy ours;
    ours.ciphers = {IkeCipher::aes256_gcm};
    ours.prfs = {PrfId::hmac_sha2_256};
    ours.dh_groups = {DhGroup::ecp256};
    const auto refused = choose_ike(theirs, ours);
    REQUIRE(!refused.has_value());
    CHECK(refused.error().message() ==
          "no suitable proposal found (ours: IKE:aes-256-gcm/prf-sha256/ecp256, "
          "theirs: IKE:aes-128-cbc/sha512/prf-sha512/modp2048)");

    const auto child_refused =
        choose_child(SaPayload{{esp_proposal(1, {encr(EncrId::aes_cbc, 128), T(TransformType::esn, 1)})}},
                     proposal_policy(), false, 1);
    REQUIRE(!child_refused.has_value());
    CHECK(child_refused.error().ours == describe(proposal_policy(), false));
    CHECK(child_refused.error().theirs == "ESP:aes-128-cbc/esn");
}

TEST_CASE("describe_suite: a negotiated suite in the words of describe()")
{
    CHECK(describe_suite(IkeSuite{IkeCipher::aes256_gcm, PrfId::hmac_sha2_256, IntegId::none, DhGroup::ecp256}) ==
          "aes-256-gcm/prf-sha256/ecp256");
    CHECK(describe_suite(IkeSuite{IkeCipher::aes128_cbc, PrfId::hmac_sha2_384, IntegId::hmac_sha2_384_192,
                                  DhGroup::modp2048}) == "aes-128-cbc/sha384/prf-sha384/modp2048");
    CHECK(describe_suite(ChildSuite{EspCipher::aes128_gcm, EspIntegrity::none, DhGroup::none, true}) ==
          "aes-128-gcm/esn");
    CHECK(describe_suite(ChildSuite{EspCipher::aes256_cbc, EspIntegrity::hmac_sha256_128, DhGroup::curve25519,
                                    false}) == "aes-256-cbc/sha256/curve25519/no-esn");
}

TEST_CASE("describe: transforms we do not know print by number")
{
    const SaPayload sa{{ike_proposal(1, {T(TransformType::encr, 3), encr(EncrId::aes_cbc, 192),
                                         T(TransformType::prf, 2), T(TransformType::integ, 2),
                                         T(TransformType::dh, 2), T(static_cast<TransformType>(9), 4)})}};
    CHECK(describe(sa) == "IKE:ENCR_3/ENCR_12/192/INTEG_2/PRF_2/DH_2/TRANSFORM9_4");
    CHECK(describe(SaPayload{}) == "none");
    Proposal ah = esp_proposal(1, {T(TransformType::integ, id(IntegId::hmac_sha2_256_128))});
    ah.protocol_id = ProtocolId::ah;
    CHECK(describe(SaPayload{{ah}}) == "AH:sha256");
}

TEST_CASE("describe: a transform refused for its attributes shows them as received, so theirs differs from ours")
{
    // strongSwan and libreswan's impair modes can send a Key Length twice;
    // section 3.3.6 makes such a transform unacceptable. The line used to
    // print "aes-256-cbc" on both sides of "no suitable proposal found".
    IkePolicy ours;
    ours.ciphers = {IkeCipher::aes256_cbc};
    ours.prfs = {PrfId::hmac_sha2_256};
    ours.dh_groups = {DhGroup::ecp256};
    Transform doubled = encr(EncrId::aes_cbc, 256);
    doubled.attributes.push_back(doubled.attributes.front());
    const SaPayload offer = through_codec(SaPayload{{ike_proposal(
        1, {doubled, T(TransformType::integ, id(IntegId::hmac_sha2_256_128)),
            T(TransformType::prf, id(PrfId::hmac_sha2_256)), T(TransformType::dh, id(DhGroup::ecp256))})}});
    const auto refused = choose_ike(offer, ours);
    REQUIRE(!refused.has_value());
    CHECK(refused.error().ours == "IKE:aes-256-cbc/sha256/prf-sha256/ecp256");
    CHECK(refused.error().theirs == "IKE:aes-256-cbc[key-length=256,key-length=256]/sha256/prf-sha256/ecp256");
    CHECK(refused.error().ours != refused.error().theirs);

    Transform odd = encr(EncrId::aes_cbc, 128);
    odd.attributes.push_back(TransformAttribute{99, false, 0, {0x01, 0xab}});
    CHECK(describe(SaPayload{{ike_proposal(1, {odd})}}) == "IKE:aes-128-cbc[key-length=128,attribute-99=0x01ab]");
}
