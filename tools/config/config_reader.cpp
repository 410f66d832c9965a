#include "tools/config/config_reader.hpp"

#include "tools/config/routeros_hints.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <numeric>
#include <stdexcept>

namespace mesh::config::detail {
namespace {

std::size_t edit_distance(std::string_view a, std::string_view b)
{
    // Levenshtein, one row at a time.
    std::vector<std::size_t> row(b.size() + 1);
    std::iota(row.begin(), row.end(), std::size_t{0});
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            const std::size_t substitution = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
            row[j] = std::min({above + 1, row[j - 1] + 1, substitution});
            diagonal = above;
        }
    }
    return row[b.size()];
}

std::string joined(std::span<const std::string_view> words)
{
    std::string out;
    for (const auto word : words) {
        if (!out.empty())
            out += ", ";
        out += word;
    }
    return out;
}

} // namespace

std::string in_quotes(std::string_view word)
{
    return "'" + std::string(word) + "'";
}

void Source::fail(const toml::source_region& at, const std::string& message) const
{
    throw ConfigError(file, at.begin.line, at.begin.column, message);
}

std::string Source::warning(const toml::source_region& at, const std::string& message) const
{
    return file + ":" + std::to_string(at.begin.line) + ":" + std::to_string(at.begin.column) + ": warning: " + message;
}

std::optional<std::string_view> closest(std::string_view word, std::span<const std::string_view> candidates)
{
    // One typo in a short word, two in a longer one; more is a different word.
    const std::size_t limit = word.size() <= 4 ? 1 : 2;
    std::optional<std::string_view> best;
    std::size_t best_distance = limit + 1;
    for (const auto candidate : candidates) {
        const std::size_t distance = edit_distance(word, candidate);
        if (distance < best_distance) {
            best = candidate;
            best_distance = distance;
        }
    }
    return best;
}

std::string_view type_name(toml::node_type type) noexcept
{
    switch (type) {
    case toml::node_type::none: return "nothing";
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a floating-point number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    }
    return "an unknown type";
}

TableReader::TableReader(const Source& source, const toml::table& table, std::string path,
                         std::initializer_list<std::string_view> known)
    : source_(source), table_(table), path_(std::move(path)), known_(known)
{
    for (const auto& [key, value] : table_) {
        const std::string_view name = key.str();
        if (std::ranges::find(known_, name) != known_.end())
            continue;
        const std::string_view kind = std::string_view(path_).substr(0, path_.find('.'));
        const auto* inner = value.as_table();
        const std::string_view first = inner != nullptr && !inner->empty() ? inner->cbegin()->first.str() : "";
        if (const auto hint = routeros_key_hint(kind, name, first))
            source_.fail(key.source(), *hint);
        const auto suggestion = closest(name, known_);
        std::string message;
        if (value.is_table() && !value.as_table()->is_inline()) {
            const std::string prefix = path_.empty() ? "" : path_ + ".";
            message = "unknown table [" + prefix + std::string(name) + "]";
            if (suggestion)
                message += " (did you mean [" + prefix + std::string(*suggestion) + "]?)";
        } else {
            message = "unknown key " + in_quotes(name) + (path_.empty() ? " at the top level" : " in " + section());
            if (suggestion)
                message += " (did you mean " + in_quotes(*suggestion) + "?)";
        }
        source_.fail(key.source(), message);
    }
}

void TableReader::check_known(std::string_view key) const
{
    // A read of a key the constructor was not told of would let that key
    // through unchecked elsewhere: a mistake in this program, not the file.
    if (std::ranges::find(known_, key) == known_.end())
        throw std::logic_error("configuration reader: key '" + std::string(key) + "' not declared for " + section());
}

bool TableReader::has(std::string_view key) const
{
    check_known(key);
    return table_.contains(key);
}

const toml::node* TableReader::node(std::string_view key) const
{
    check_known(key);
    return table_.get(key);
}

void TableReader::fail_missing(std::string_view key) const
{
    fail_here("missing " + in_quotes(key) + " in " + section());
}

std::optional<Value<std::string_view>> TableReader::text(std::string_view key) const
{
    const toml::node* n = node(key);
    if (!n)
        return std::nullopt;
    const auto* s = n->as_string();
    if (!s)
        fail(*n, "expected a string for " + in_quotes(key) + ", not " + std::string(type_name(n->type())));
    return Value<std::string_view>{s->get(), n};
}

std::optional<Value<std::string>> TableReader::string(std::string_view key) const
{
    const auto v = text(key);
    if (!v)
        return std::nullopt;
    return Value<std::string>{std::string(v->value), v->node};
}

std::optional<Value<std::int64_t>> TableReader::integer(std::string_view key) const
{
    const toml::node* n = node(key);
    if (!n)
        return std::nullopt;
    const auto* i = n->as_integer();
    if (!i)
        fail(*n, "expected an integer for " + in_quotes(key) + ", not " + std::string(type_name(n->type())));
    return Value<std::int64_t>{i->get(), n};
}

std::optional<Value<std::int64_t>> TableReader::integer(std::string_view key, std::int64_t min,
                                                        std::int64_t max) const
{
    auto v = integer(key);
    if (v && (v->value < min || v->value > max))
        fail(*v->node, in_quotes(key) + " must be between " + std::to_string(min) + " and " + std::to_string(max));
    return v;
}

std::optional<Value<bool>> TableReader::boolean(std::string_view key) const
{
    const toml::node* n = node(key);
    if (!n)
        return std::nullopt;
    const auto* b = n->as_boolean();
    if (const auto* s = n->as_string(); s != nullptr && is_routeros_boolean(s->get()))
        fail(*n, "expected true or false for " + in_quotes(key) + ", not \"" + s->get() + "\" (yes/no: write true/false)");
    if (!b)
        fail(*n, "expected true or false for " + in_quotes(key) + ", not " + std::string(type_name(n->type())));
    return Value<bool>{b->get(), n};
}

std::optional<StringList> TableReader::strings(std::string_view key) const
{
    const toml::node* n = node(key);
    if (!n)
        return std::nullopt;
    const auto* array = n->as_array();
    if (!array)
        fail(*n, "expected an array of strings for " + in_quotes(key) + ", not " + std::string(type_name(n->type())));
    StringList list{{}, n};
    for (const auto& element : *array) {
        const auto* s = element.as_string();
        if (!s)
            fail(element, "expected a string in " + in_quotes(key) + ", not " + std::string(type_name(element.type())));
        list.items.push_back({s->get(), &element});
    }
    return list;
}

const toml::table* TableReader::table(std::string_view key) const
{
    const toml::node* n = node(key);
    if (!n)
        return nullptr;
    const auto* t = n->as_table();
    if (!t)
        fail(*n, "expected a table for " + in_quotes(key) + ", not " + std::string(type_name(n->type())));
    return t;
}

std::optional<Value<Duration>> TableReader::duration(std::string_view key) const
{
    const toml::node* n = node(key);
    if (!n)
        return std::nullopt;
    const auto* s = n->as_string();
    if (!s)
        fail(*n, "expected a duration string such as \"30s\" for " + in_quotes(key) + ", not " +
                     std::string(type_name(n->type())));
    const auto d = parse_duration(s->get());
    if (!d)
        fail(*n, in_quotes(key) + " must be a duration such as \"30s\": a positive whole number and ms, s, m, h or d");
    return Value<Duration>{*d, n};
}

std::optional<Value<std::uint64_t>> TableReader::byte_count(std::string_view key) const
{
    const toml::node* n = node(key);
    if (!n)
        return std::nullopt;
    std::optional<std::uint64_t> bytes;
    if (const auto* i = n->as_integer(); i != nullptr && i->get() > 0)
        bytes = static_cast<std::uint64_t>(i->get());
    else if (const auto* s = n->as_string())
        bytes = parse_byte_count(s->get());
    if (!bytes)
        fail(*n, in_quotes(key) + " must be a size such as \"4GB\": a positive whole number of bytes, or with kB, MB, "
                 "GB, KiB, MiB or GiB");
    return Value<std::uint64_t>{*bytes, n};
}

std::optional<Value<std::filesystem::path>> TableReader::path(std::string_view key) const
{
    const auto s = string(key);
    if (!s)
        return std::nullopt;
    if (s->value.empty())
        fail(*s->node, in_quotes(key) + " must not be empty");
    std::filesystem::path p(s->value);
    if (p.is_relative())
        p = source_.directory / p;
    return Value<std::filesystem::path>{p, s->node};
}

void TableReader::check_member(const Value<std::string>& item, std::string_view key,
                               std::span<const std::string_view> allowed) const
{
    if (std::ranges::find(allowed, item.value) != allowed.end())
        return;
    if (const auto hint = routeros_value_hint(std::string_view(path_).substr(0, path_.find('.')), key, item.value))
        fail(*item.node, *hint);
    std::string message = in_quotes(item.value) + " is not a valid " + in_quotes(key);
    if (const auto suggestion = closest(item.value, allowed))
        message += " (did you mean " + in_quotes(*suggestion) + "?)";
    else
        message += " (expected one of: " + joined(allowed) + ")";
    fail(*item.node, message);
}

std::optional<Value<std::string>> TableReader::choice(std::string_view key,
                                                      std::span<const std::string_view> allowed) const
{
    auto v = string(key);
    if (v)
        check_member(*v, key, allowed);
    return v;
}

std::optional<StringList> TableReader::choices(std::string_view key, std::span<const std::string_view> allowed) const
{
    auto list = strings(key);
    if (!list)
        return std::nullopt;
    if (list->items.empty())
        fail(*list->node, in_quotes(key) + " must not be empty");
    for (auto it = list->items.begin(); it != list->items.end(); ++it) {
        check_member(*it, key, allowed);
        const auto same = [&](const Value<std::string>& other) { return other.value == it->value; };
        if (std::any_of(list->items.begin(), it, same))
            fail(*it->node, in_quotes(it->value) + " is listed twice in " + in_quotes(key));
    }
    return list;
}

std::optional<std::vector<std::string>> TableReader::choice_values(std::string_view key,
                                                                   std::span<const std::string_view> allowed) const
{
    const auto list = choices(key, allowed);
    if (!list)
        return std::nullopt;
    std::vector<std::string> values;
    for (const auto& item : list->items)
        values.push_back(item.value);
    return values;
}

std::optional<Value<net::IpAddress>> TableReader::address(std::string_view key) const
{
    const auto v = string(key);
    if (!v)
        return std::nullopt;
    const auto a = net::IpAddress::parse(v->value);
    if (!a)
        fail(*v->node, in_quotes(key) + " must be an IP address, not \"" + v->value + "\"");
    return Value<net::IpAddress>{*a, v->node};
}

namespace {

net::IpPrefix to_prefix(const TableReader& r, const Value<std::string>& v, std::string_view key)
{
    const auto p = net::IpPrefix::parse(v.value);
    if (!p)
        r.fail(*v.node, in_quotes(key) + " must be an IP address or prefix, not \"" + v.value + "\"");
    return *p;
}

net::IpAddress network_of(const net::IpPrefix& p)
{
    std::array<std::uint8_t, 16> bytes{};
    std::memcpy(bytes.data(), p.address().bytes(), p.address().size());
    for (std::size_t bit = p.length(); bit < p.address().size() * 8; ++bit)
        bytes[bit / 8] = static_cast<std::uint8_t>(bytes[bit / 8] & ~(0x80u >> (bit % 8)));
    return net::IpAddress::from_bytes(p.address().family(), bytes.data());
}

} // namespace

std::optional<Value<net::IpPrefix>> TableReader::prefix(std::string_view key) const
{
    const auto v = string(key);
    if (!v)
        return std::nullopt;
    return Value<net::IpPrefix>{to_prefix(*this, *v, key), v->node};
}

void TableReader::check_network(const Value<net::IpPrefix>& p, std::string_view key) const
{
    const net::IpPrefix network(network_of(p.value), p.value.length());
    if (network != p.value)
        fail(*p.node, in_quotes(key) + " entry " + p.value.to_string() + " has host bits set (did you mean " +
                          network.to_string() + "?)");
}

std::vector<net::IpPrefix> TableReader::networks(std::string_view key) const
{
    std::vector<net::IpPrefix> out;
    if (const auto list = strings(key)) {
        for (const auto& item : list->items) {
            const Value<net::IpPrefix> p{to_prefix(*this, item, key), item.node};
            check_network(p, key);
            out.push_back(p.value);
        }
    }
    return out;
}

Value<std::string> TableReader::required_string(std::string_view key) const
{
    auto v = string(key);
    if (!v)
        fail_missing(key);
    return *v;
}

} // namespace mesh::config::detail
