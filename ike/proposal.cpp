// Proposals from policy, the responder's choice, the initiator's check of the
// answer, and their log text. The flow of each side:
//
//   offer:   policy -> one AEAD proposal + one CBC proposal -> SA payload
//   choose:  each offered proposal -> its best suite by our order (or none)
//            -> the best of those by our order -> the reply with one transform per type
//   accept:  the reply -> one of our offered proposals it selects from -> suite

#include "ike/proposal.hpp"

#include <algorithm>
#include <array>
#include <cstddef>

namespace mesh::ike {
namespace {

template <class E>
constexpr std::uint16_t num(E e) noexcept
{
    return static_cast<std::uint16_t>(e);
}

// ---------------------------------------------------------------------------
// Transforms

Transform plain(TransformType type, std::uint16_t id)
{
    return Transform{type, id, {}};
}

Transform encr_transform(EncrId id, std::uint16_t key_bits)
{
    if (key_bits == no_key_length)
        return plain(TransformType::encr, num(id));
    return Transform::with_key_length(TransformType::encr, num(id), key_bits);
}

// An ENCR transform's key length: no_key_length without attributes, nullopt
// when it has any attribute other than one Key Length, which section 3.3.6
// says makes the transform unacceptable.
std::optional<std::uint16_t> encr_key_bits(const Transform& t) noexcept
{
    if (t.attributes.empty())
        return no_key_length;
    if (t.attributes.size() == 1 && t.attributes[0].type == key_length_attribute && t.attributes[0].tv)
        return t.attributes[0].tv_value;
    return std::nullopt;
}

// Only ENCR takes an attribute (the Key Length, section 3.3.5).
bool offers(std::span<const Transform* const> list, std::uint16_t id) noexcept
{
    return std::any_of(list.begin(), list.end(),
                       [id](const Transform* t) { return t->id == id && t->attributes.empty(); });
}

bool offers_encr(std::span<const Transform* const> list, EncrTransform wanted) noexcept
{
    return std::any_of(list.begin(), list.end(), [wanted](const Transform* t) {
        return t->id == num(wanted.id) && encr_key_bits(*t) == wanted.key_bits;
    });
}

bool is_known_type(TransformType type) noexcept
{
    return type == TransformType::encr || type == TransformType::prf || type == TransformType::integ ||
           type == TransformType::dh || type == TransformType::esn;
}

// A proposal's transforms by type; any other type marks it unacceptable
// (section 3.3.6: "a Transform Type it does not understand").
struct ByType {
    std::vector<const Transform*> encr, prf, integ, dh, esn;
    bool unknown_type = false;

    explicit ByType(const Proposal& p)
    {
        for (const Transform& t : p.transforms) {
            switch (t.type) {
            case TransformType::encr: encr.push_back(&t); break;
            case TransformType::prf: prf.push_back(&t); break;
            case TransformType::integ: integ.push_back(&t); break;
            case TransformType::dh: dh.push_back(&t); break;
            case TransformType::esn: esn.push_back(&t); break;
            default: unknown_type = true; break;
            }
        }
    }

    // Integrity other than NONE: the proposal is for CBC ciphers only.
    [[nodiscard]] bool has_integrity() const noexcept
    {
        return std::any_of(integ.begin(), integ.end(), [](const Transform* t) { return t->id != num(IntegId::none); });
    }
};

void add_unique(std::vector<Transform>& list, Transform t)
{
    if (std::find(list.begin(), list.end(), t) == list.end())
        list.push_back(std::move(t));
}

// The integrity algorithms the profile's hash-algorithm list implies for CBC.
std::vector<IntegId> ike_integrities(const IkePolicy& policy)
{
    std::vector<IntegId> out;
    for (const PrfId prf : policy.prfs) {
        const IntegId integ = integ_for(IkeCipher::aes256_cbc, prf);
        if (integ != IntegId::none && std::find(out.begin(), out.end(), integ) == out.end())
            out.push_back(integ);
    }
    return out;
}

// Our PFS choices in order; no groups configured means "no PFS".
std::vector<DhGroup> pfs_choices(const ChildPolicy& policy)
{
    if (policy.pfs_groups.empty())
        return {DhGroup::none};
    return policy.pfs_groups;
}

// Number proposals 1, 2... and drop empty ones; the group holding our first
// cipher was pushed first.
SaPayload numbered(std::vector<Proposal> proposals)
{
    SaPayload sa;
    for (Proposal& p : proposals) {
        if (p.transforms.empty())
            continue;
        p.number = static_cast<std::uint8_t>(sa.proposals.size() + 1);
        sa.proposals.push_back(std::move(p));
    }
    return sa;
}

// Position of the first of `ours` that `accepted` says yes to.
template <class Range, class Pred>
std::optional<std::size_t> first_of(const Range& ours, Pred accepted)
{
    for (std::size_t i = 0; i < ours.size(); ++i)
        if (accepted(ours[i]))
            return i;
    return std::nullopt;
}

// Lexicographic: cipher, integrity, PRF, DH / ESN. Smaller is better.
using Rank = std::array<std::size_t, 4>;

// ---------------------------------------------------------------------------
// IKE choice

struct IkeCandidate {
    IkeSuite suite;
    Rank rank{};
};

std::optional<IkeCandidate> evaluate_ike(const Proposal& p, const IkePolicy& ours, DhGroup ke_group)
{
    if (p.protocol_id != ProtocolId::ike || (!p.spi.empty() && p.spi.size() != 8))
        return std::nullopt;
    const ByType t(p);
    if (t.unknown_type || !t.esn.empty() || t.encr.empty() || t.prf.empty() || t.dh.empty())
        return std::nullopt;

    const bool cbc_only = t.has_integrity();
    IkeCandidate c;
    const auto cipher = first_of(ours.ciphers, [&](IkeCipher ic) {
        const IkeCipherInfo& i = info(ic);
        return i.aead != cbc_only && offers_encr(t.encr, {i.id, i.key_bits});
    });
    const auto prf = first_of(ours.prfs, [&](PrfId id) { return offers(t.prf, num(id)); });
    std::vector<DhGroup> groups;
    std::copy_if(ours.dh_groups.begin(), ours.dh_groups.end(), std::back_inserter(groups),
                 [](DhGroup g) { return g != DhGroup::none; });
    const auto dh = first_of(groups, [&](DhGroup g) { return offers(t.dh, num(g)); });
    if (!cipher || !prf || !dh)
        return std::nullopt;
    c.suite.cipher = ours.ciphers[*cipher];
    c.suite.prf = ours.prfs[*prf];
    c.suite.dh = groups[*dh];
    c.rank = {*cipher, 0, *prf, *dh};

    if (cbc_only) {
        const std::vector<IntegId> integs = ike_integrities(ours);
        const auto integ = first_of(integs, [&](IntegId id) { return offers(t.integ, num(id)); });
        if (!integ)
            return std::nullopt;
        c.suite.integ = integs[*integ];
        c.rank[1] = *integ;
    } else {
        c.suite.integ = IntegId::none;
    }

    if (ke_group != DhGroup::none && std::find(groups.begin(), groups.end(), ke_group) != groups.end() &&
        offers(t.dh, num(ke_group)))
        c.suite.dh = ke_group;
    return c;
}

Proposal ike_reply(std::uint8_t number, const IkeSuite& s, std::span<const std::uint8_t> our_spi)
{
    Proposal p{number, ProtocolId::ike, {our_spi.begin(), our_spi.end()}, {}};
    p.transforms.push_back(encr_transform(info(s.cipher).id, info(s.cipher).key_bits));
    if (s.integ != IntegId::none)
        p.transforms.push_back(plain(TransformType::integ, num(s.integ)));
    p.transforms.push_back(plain(TransformType::prf, num(s.prf)));
    p.transforms.push_back(plain(TransformType::dh, num(s.dh)));
    return p;
}

// ---------------------------------------------------------------------------
// CHILD choice

struct ChildCandidate {
    ChildSuite suite;
    Rank rank{};
};

constexpr std::array<EsnId, 2> esn_preference{EsnId::esn, EsnId::no_esn};

std::optional<ChildCandidate> evaluate_child(const Proposal& p, const ChildPolicy& ours, bool with_pfs,
                                             DhGroup ke_group)
{
    if (p.protocol_id != ProtocolId::esp || p.spi.size() != 4)
        return std::nullopt;
    const ByType t(p);
    if (t.unknown_type || !t.prf.empty() || t.encr.empty() || t.esn.empty())
        return std::nullopt;

    const bool cbc_only = t.has_integrity();
    ChildCandidate c;
    const auto cipher = first_of(ours.ciphers, [&](tunnel::EspCipher ec) {
        return tunnel::info(ec).aead != cbc_only && offers_encr(t.encr, esp_transform(ec));
    });
    const auto esn = first_of(esn_preference, [&](EsnId id) { return offers(t.esn, num(id)); });
    if (!cipher || !esn)
        return std::nullopt;
    c.suite.cipher = ours.ciphers[*cipher];
    c.suite.esn = esn_preference[*esn] == EsnId::esn;
    c.rank = {*cipher, 0, 0, *esn};

    if (cbc_only) {
        std::vector<tunnel::EspIntegrity> integs;
        std::copy_if(ours.integrities.begin(), ours.integrities.end(), std::back_inserter(integs),
                     [](tunnel::EspIntegrity i) { return i != tunnel::EspIntegrity::none; });
        const auto integ =
            first_of(integs, [&](tunnel::EspIntegrity i) { return offers(t.integ, num(esp_integ(i))); });
        if (!integ)
            return std::nullopt;
        c.suite.integrity = integs[*integ];
        c.rank[1] = *integ;
    } else {
        c.suite.integrity = tunnel::EspIntegrity::none;
    }

    // Section 1.2: IKE_AUTH carries no KE, so its DH transforms mean nothing.
    c.suite.pfs = DhGroup::none;
    if (with_pfs) {
        const std::vector<DhGroup> choices = pfs_choices(ours);
        // No DH transform at all offers no PFS, like an explicit NONE.
        const auto offered = [&](DhGroup g) { return t.dh.empty() ? g == DhGroup::none : offers(t.dh, num(g)); };
        const auto dh = first_of(choices, offered);
        if (!dh)
            return std::nullopt;
        c.suite.pfs = choices[*dh];
        c.rank[2] = *dh;
        if (ke_group != DhGroup::none && std::find(choices.begin(), choices.end(), ke_group) != choices.end() &&
            offered(ke_group))
            c.suite.pfs = ke_group;
    }
    return c;
}

Proposal child_reply(std::uint8_t number, const ChildSuite& s, std::uint32_t our_spi)
{
    Proposal p{number, ProtocolId::esp, spi_bytes(our_spi), {}};
    const EncrTransform e = esp_transform(s.cipher);
    p.transforms.push_back(encr_transform(e.id, e.key_bits));
    if (s.integrity != tunnel::EspIntegrity::none)
        p.transforms.push_back(plain(TransformType::integ, num(esp_integ(s.integrity))));
    if (s.pfs != DhGroup::none)
        p.transforms.push_back(plain(TransformType::dh, num(s.pfs)));
    p.transforms.push_back(plain(TransformType::esn, num(s.esn ? EsnId::esn : EsnId::no_esn)));
    return p;
}

// Best candidate over all proposals; the earlier proposal wins a tie.
template <class Candidate, class Evaluate>
std::optional<std::pair<Candidate, const Proposal*>> best_of(const SaPayload& offered, Evaluate evaluate)
{
    std::optional<std::pair<Candidate, const Proposal*>> best;
    for (const Proposal& p : offered.proposals) {
        std::optional<Candidate> c = evaluate(p);
        if (c && (!best || c->rank < best->first.rank))
            best.emplace(std::move(*c), &p);
    }
    return best;
}

// ---------------------------------------------------------------------------
// Checking an answer

enum class Selection : std::uint8_t { ok, missing, not_offered };

bool same_transform(const Transform& a, const Transform& b) noexcept
{
    if (a.type != b.type || a.id != b.id)
        return false;
    if (a.type != TransformType::encr)
        return a.attributes.empty() && b.attributes.empty();
    const auto ka = encr_key_bits(a);
    return ka && ka == encr_key_bits(b);
}

// Does `reply` hold exactly one transform of each type of `offer`, each one
// of the offer's? INTEG NONE in an answer to a proposal without INTEG (an
// AEAD, RFC 5282 section 8) and DH NONE in one to a proposal without DH
// (section 1.2 only says SHOULD omit) are taken as absent.
Selection selects_from(const Proposal& reply, const Proposal& offer)
{
    for (const Transform& t : reply.transforms) {
        const bool in_offer = std::any_of(offer.transforms.begin(), offer.transforms.end(),
                                          [&](const Transform& o) { return same_transform(t, o); });
        if (in_offer)
            continue;
        const bool offer_has_type = std::any_of(offer.transforms.begin(), offer.transforms.end(),
                                                [&](const Transform& o) { return o.type == t.type; });
        const bool none_for_absent =
            (t.type == TransformType::integ || t.type == TransformType::dh) && t.id == 0 && t.attributes.empty();
        if (none_for_absent && !offer_has_type)
            continue;
        return Selection::not_offered;
    }
    for (const Transform& o : offer.transforms) {
        const bool answered = std::any_of(reply.transforms.begin(), reply.transforms.end(),
                                          [&](const Transform& t) { return t.type == o.type; });
        if (!answered)
            return Selection::missing;
    }
    return Selection::ok;
}

// The common checks of an answer: one proposal of the protocol, one
// transform per type, and drawn from one proposal of our offer.
std::expected<const Proposal*, ReplyErrc> check_reply(const SaPayload& reply, const SaPayload& offer,
                                                      ProtocolId protocol)
{
    if (reply.proposals.size() != 1)
        return std::unexpected(ReplyErrc::not_one_proposal);
    const Proposal& p = reply.proposals.front();
    if (p.protocol_id != protocol)
        return std::unexpected(ReplyErrc::wrong_protocol);
    if (protocol == ProtocolId::esp ? p.spi.size() != 4 : !(p.spi.empty() || p.spi.size() == 8))
        return std::unexpected(ReplyErrc::bad_spi);
    for (std::size_t i = 0; i < p.transforms.size(); ++i)
        for (std::size_t j = i + 1; j < p.transforms.size(); ++j)
            if (p.transforms[i].type == p.transforms[j].type)
                return std::unexpected(ReplyErrc::duplicate_transform);
    if (std::any_of(p.transforms.begin(), p.transforms.end(), [](const Transform& t) { return !is_known_type(t.type); }))
        return std::unexpected(ReplyErrc::not_offered);

    ReplyErrc failure = ReplyErrc::not_offered;
    for (const Proposal& o : offer.proposals) {
        switch (selects_from(p, o)) {
        case Selection::ok: return &p;
        case Selection::missing: failure = ReplyErrc::missing_transform; break;
        case Selection::not_offered: break;
        }
    }
    return std::unexpected(failure);
}

const Transform* of_type(const Proposal& p, TransformType type) noexcept
{
    for (const Transform& t : p.transforms)
        if (t.type == type)
            return &t;
    return nullptr;
}

// ---------------------------------------------------------------------------
// Log text

std::string protocol_name(ProtocolId protocol)
{
    switch (protocol) {
    case ProtocolId::ike: return "IKE";
    case ProtocolId::esp: return "ESP";
    case ProtocolId::ah: return "AH";
    case ProtocolId::none: break;
    }
    return "PROTO" + std::to_string(static_cast<unsigned>(protocol));
}

// Attributes as received: "key-length=256", "attribute-17=0x0102".
std::string attribute_text(const TransformAttribute& a)
{
    std::string text = a.type == key_length_attribute ? "key-length" : "attribute-" + std::to_string(a.type);
    if (a.tv)
        return text + "=" + std::to_string(a.tv_value);
    static constexpr char digits[] = "0123456789abcdef";
    text += a.type == key_length_attribute ? "(TLV)=0x" : "=0x";
    for (const std::uint8_t b : a.tlv_value)
        text += {digits[b >> 4], digits[b & 0x0f]};
    return text;
}

// The name, the key length folded in ("aes-256-cbc"); a transform with other
// attributes than one Key Length (a duplicated one, one of unknown type) has
// them spelled out as received, "aes-256-cbc[key-length=256,key-length=256]",
// since they are why it is not accepted (section 3.3.6).
std::string transform_text(const Transform& t)
{
    const bool plain = t.attributes.empty() ||
                       (t.attributes.size() == 1 && t.attributes[0].type == key_length_attribute && t.attributes[0].tv);
    const std::uint16_t bits = t.key_length().value_or(no_key_length);
    std::string name = transform_name(t.type, t.id, bits, SuiteFor::esp);
    if (t.type == TransformType::prf && find_prf(t.id))
        name.insert(0, "prf-");
    if (!plain) {
        name += "[";
        for (std::size_t i = 0; i < t.attributes.size(); ++i)
            name += (i == 0 ? "" : ",") + attribute_text(t.attributes[i]);
        name += "]";
    }
    return name;
}

std::size_t type_position(TransformType type) noexcept
{
    switch (type) {
    case TransformType::encr: return 0;
    case TransformType::integ: return 1;
    case TransformType::prf: return 2;
    case TransformType::dh: return 3;
    case TransformType::esn: return 4;
    }
    return 5;
}

// A proposal's transforms in the order ENCR, INTEG, PRF, DH, ESN, then others.
std::string transforms_text(const Proposal& p)
{
    std::vector<const Transform*> sorted;
    for (const Transform& t : p.transforms)
        sorted.push_back(&t);
    std::stable_sort(sorted.begin(), sorted.end(), [](const Transform* a, const Transform* b) {
        return type_position(a->type) < type_position(b->type);
    });
    std::string out;
    for (std::size_t i = 0; i < sorted.size(); ++i)
        out += (i == 0 ? "" : "/") + transform_text(*sorted[i]);
    return out;
}

} // namespace

// ---------------------------------------------------------------------------

SaPayload ike_proposals(const IkePolicy& policy, std::span<const std::uint8_t> spi)
{
    Proposal aead{0, ProtocolId::ike, {spi.begin(), spi.end()}, {}};
    Proposal cbc = aead;
    for (const IkeCipher c : policy.ciphers)
        add_unique((info(c).aead ? aead : cbc).transforms, encr_transform(info(c).id, info(c).key_bits));

    if (!cbc.transforms.empty()) {
        const std::vector<IntegId> integs = ike_integrities(policy);
        if (integs.empty())
            cbc.transforms.clear();   // CBC without integrity is no proposal
        for (const IntegId i : integs)
            add_unique(cbc.transforms, plain(TransformType::integ, num(i)));
    }
    for (Proposal* p : {&aead, &cbc}) {
        if (p->transforms.empty())
            continue;
        for (const PrfId prf : policy.prfs)
            add_unique(p->transforms, plain(TransformType::prf, num(prf)));
        for (const DhGroup g : policy.dh_groups)
            if (g != DhGroup::none)
                add_unique(p->transforms, plain(TransformType::dh, num(g)));
    }
    const bool aead_first = policy.ciphers.empty() || info(policy.ciphers.front()).aead;
    return aead_first ? numbered({std::move(aead), std::move(cbc)}) : numbered({std::move(cbc), std::move(aead)});
}

IkePolicy preferring(IkePolicy policy, const IkeSuite& current)
{
    const auto to_front = [](auto& list, auto value) {
        if (const auto it = std::find(list.begin(), list.end(), value); it != list.end())
            std::rotate(list.begin(), it, it + 1);
    };
    to_front(policy.ciphers, current.cipher);
    to_front(policy.prfs, current.prf);
    to_front(policy.dh_groups, current.dh);
    return policy;
}

SaPayload child_proposals(const ChildPolicy& policy, std::uint32_t spi, bool with_pfs)
{
    Proposal aead{0, ProtocolId::esp, spi_bytes(spi), {}};
    Proposal cbc = aead;
    for (const tunnel::EspCipher c : policy.ciphers) {
        const EncrTransform e = esp_transform(c);
        add_unique((tunnel::info(c).aead ? aead : cbc).transforms, encr_transform(e.id, e.key_bits));
    }
    if (!cbc.transforms.empty()) {
        const std::size_t ciphers = cbc.transforms.size();
        for (const tunnel::EspIntegrity i : policy.integrities)
            if (i != tunnel::EspIntegrity::none)
                add_unique(cbc.transforms, plain(TransformType::integ, num(esp_integ(i))));
        if (cbc.transforms.size() == ciphers)
            cbc.transforms.clear();   // CBC without integrity is no proposal
    }
    for (Proposal* p : {&aead, &cbc}) {
        if (p->transforms.empty())
            continue;
        if (with_pfs)
            for (const DhGroup g : policy.pfs_groups)
                if (g != DhGroup::none)
                    add_unique(p->transforms, plain(TransformType::dh, num(g)));
        // ESN first: with 64-bit sequence numbers an SA never runs out before rekeying.
        p->transforms.push_back(plain(TransformType::esn, num(EsnId::esn)));
        p->transforms.push_back(plain(TransformType::esn, num(EsnId::no_esn)));
    }
    const bool aead_first = policy.ciphers.empty() || tunnel::info(policy.ciphers.front()).aead;
    return aead_first ? numbered({std::move(aead), std::move(cbc)}) : numbered({std::move(cbc), std::move(aead)});
}

std::string NoProposalChosen::message() const
{
    return "no suitable proposal found (ours: " + ours + ", theirs: " + theirs + ")";
}

std::expected<Chosen<IkeSuite>, NoProposalChosen> choose_ike(const SaPayload& offered, const IkePolicy& ours,
                                                            DhGroup ke_group, std::span<const std::uint8_t> our_spi)
{
    const auto best = best_of<IkeCandidate>(offered, [&](const Proposal& p) { return evaluate_ike(p, ours, ke_group); });
    if (!best)
        return std::unexpected(NoProposalChosen{describe(ours), describe(offered)});
    const auto& [candidate, proposal] = *best;
    SaPayload reply{{ike_reply(proposal->number, candidate.suite, our_spi)}};
    return Chosen<IkeSuite>{candidate.suite, spi_value(proposal->spi), std::move(reply)};
}

std::expected<Chosen<ChildSuite>, NoProposalChosen> choose_child(const SaPayload& offered, const ChildPolicy& ours,
                                                                bool with_pfs, std::uint32_t our_spi,
                                                                DhGroup ke_group)
{
    const auto best = best_of<ChildCandidate>(
        offered, [&](const Proposal& p) { return evaluate_child(p, ours, with_pfs, ke_group); });
    if (!best)
        return std::unexpected(NoProposalChosen{describe(ours, with_pfs), describe(offered)});
    const auto& [candidate, proposal] = *best;
    SaPayload reply{{child_reply(proposal->number, candidate.suite, our_spi)}};
    return Chosen<ChildSuite>{candidate.suite, static_cast<std::uint32_t>(spi_value(proposal->spi)), std::move(reply)};
}

std::string_view to_string(ReplyErrc errc) noexcept
{
    switch (errc) {
    case ReplyErrc::not_one_proposal: return "the answer does not hold exactly one proposal";
    case ReplyErrc::wrong_protocol: return "the answer's proposal is for another protocol";
    case ReplyErrc::bad_spi: return "the answer's proposal has an SPI of the wrong size";
    case ReplyErrc::duplicate_transform: return "the answer holds two transforms of one type";
    case ReplyErrc::missing_transform: return "the answer lacks a transform type the suite needs";
    case ReplyErrc::not_offered: return "the answer chose something we did not offer";
    }
    return "unknown error";
}

std::expected<Accepted<IkeSuite>, ReplyErrc> accept_ike_reply(const SaPayload& reply, const IkePolicy& ours)
{
    const auto checked = check_reply(reply, ike_proposals(ours), ProtocolId::ike);
    if (!checked)
        return std::unexpected(checked.error());
    const Proposal& p = **checked;
    // Every transform was one we offered, so each of these is known.
    const Transform* encr = of_type(p, TransformType::encr);
    const Transform* integ = of_type(p, TransformType::integ);
    const Transform* prf = of_type(p, TransformType::prf);
    const Transform* dh = of_type(p, TransformType::dh);
    if (!encr || !prf || !dh)
        return std::unexpected(ReplyErrc::missing_transform);
    const auto cipher = find_ike_cipher(encr->id, encr_key_bits(*encr).value_or(no_key_length));
    const auto prf_id = find_prf(prf->id);
    const auto group = find_dh_group(dh->id);
    const auto integ_id = integ ? find_integ(integ->id) : std::optional(IntegId::none);
    if (!cipher || !prf_id || !group || !integ_id || !is_consistent(*cipher, *integ_id))
        return std::unexpected(ReplyErrc::not_offered);
    return Accepted<IkeSuite>{IkeSuite{*cipher, *prf_id, *integ_id, *group}, spi_value(p.spi)};
}

std::expected<Accepted<ChildSuite>, ReplyErrc> accept_child_reply(const SaPayload& reply, const ChildPolicy& ours,
                                                                 bool with_pfs)
{
    const auto checked = check_reply(reply, child_proposals(ours, 0, with_pfs), ProtocolId::esp);
    if (!checked)
        return std::unexpected(checked.error());
    const Proposal& p = **checked;
    const Transform* encr = of_type(p, TransformType::encr);
    const Transform* integ = of_type(p, TransformType::integ);
    const Transform* dh = of_type(p, TransformType::dh);
    const Transform* esn = of_type(p, TransformType::esn);
    if (!encr || !esn)
        return std::unexpected(ReplyErrc::missing_transform);
    const auto cipher = find_esp_cipher(encr->id, encr_key_bits(*encr).value_or(no_key_length));
    const auto integrity = integ ? find_esp_integrity(integ->id) : std::optional(tunnel::EspIntegrity::none);
    if (!cipher || !integrity || tunnel::info(*cipher).aead != (*integrity == tunnel::EspIntegrity::none))
        return std::unexpected(ReplyErrc::not_offered);
    ChildSuite suite{*cipher, *integrity, DhGroup::none, esn->id == num(EsnId::esn)};
    if (dh && dh->id != num(DhGroup::none)) {
        const auto group = find_dh_group(dh->id);
        if (!group)
            return std::unexpected(ReplyErrc::not_offered);
        suite.pfs = *group;
    }
    return Accepted<ChildSuite>{suite, static_cast<std::uint32_t>(spi_value(p.spi))};
}

std::vector<std::uint8_t> spi_bytes(std::uint32_t spi)
{
    return {static_cast<std::uint8_t>(spi >> 24), static_cast<std::uint8_t>(spi >> 16),
            static_cast<std::uint8_t>(spi >> 8), static_cast<std::uint8_t>(spi)};
}

std::vector<std::uint8_t> ike_spi_bytes(std::uint64_t spi)
{
    std::vector<std::uint8_t> bytes(8);
    for (std::size_t i = 0; i < bytes.size(); ++i)
        bytes[i] = static_cast<std::uint8_t>(spi >> (56 - 8 * i));
    return bytes;
}

std::uint64_t spi_value(std::span<const std::uint8_t> spi) noexcept
{
    std::uint64_t value = 0;
    for (const std::uint8_t b : spi.first(std::min<std::size_t>(spi.size(), 8)))
        value = value << 8 | b;
    return value;
}

std::optional<DhGroup> invalid_ke_group(DhGroup chosen, DhGroup ke_group) noexcept
{
    if (chosen == ke_group)
        return std::nullopt;
    return chosen;
}

NotifyPayload invalid_ke_payload(DhGroup wanted)
{
    const std::uint16_t group = num(wanted);
    return NotifyPayload{ProtocolId::none, NotifyType::invalid_ke_payload, {},
                         {static_cast<std::uint8_t>(group >> 8), static_cast<std::uint8_t>(group)}};
}

std::optional<DhGroup> retry_group(const NotifyPayload& invalid_ke, std::span<const DhGroup> offered,
                                   DhGroup sent) noexcept
{
    if (invalid_ke.notify_type != NotifyType::invalid_ke_payload || invalid_ke.data.size() != 2)
        return std::nullopt;
    const auto wanted = static_cast<std::uint16_t>(invalid_ke.data[0] << 8 | invalid_ke.data[1]);
    const auto group = find_dh_group(wanted);
    if (!group || *group == sent || std::find(offered.begin(), offered.end(), *group) == offered.end())
        return std::nullopt;
    return group;
}

std::string describe(const SaPayload& sa)
{
    if (sa.proposals.empty())
        return "none";
    std::string out;
    for (const Proposal& p : sa.proposals) {
        if (!out.empty())
            out += ", ";
        out += protocol_name(p.protocol_id) + ":" + transforms_text(p);
    }
    return out;
}

std::string describe_suite(const IkeSuite& suite)
{
    return transforms_text(ike_reply(1, suite, {}));
}

std::string describe_suite(const ChildSuite& suite)
{
    return transforms_text(child_reply(1, suite, 0));
}

std::string describe(const IkePolicy& policy)
{
    return describe(ike_proposals(policy));
}

std::string describe(const ChildPolicy& policy, bool with_pfs)
{
    return describe(child_proposals(policy, 0, with_pfs));
}

} // namespace mesh::ike
