#pragma once
// Reading one TOML table key by key, for config.cpp and static_sa.cpp.
//
// A TableReader is made with the keys its section knows. A key that is
// present but unknown fails at once, with a did-you-mean suggestion; each
// read checks the value's type; every failure points at the key or value at
// fault, or at the table's header when a required key is missing.
// Messages quote names, addresses and algorithm names, never a free-form
// string value, so a secret cannot leak through one.

#include "tools/config/config.hpp"

#include <toml++/toml.h>

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mesh::config::detail {

// The file being read: errors name it, relative paths start from its folder.
struct Source {
    std::string file;
    std::filesystem::path directory;

    [[noreturn]] void fail(const toml::source_region& at, const std::string& message) const;
    [[noreturn]] void fail(const toml::node& at, const std::string& message) const { fail(at.source(), message); }
    // "FILE:LINE:COL: warning: message", for Config::warnings.
    [[nodiscard]] std::string warning(const toml::source_region& at, const std::string& message) const;
    [[nodiscard]] std::string warning(const toml::node& at, const std::string& message) const
    {
        return warning(at.source(), message);
    }
};

// A value with the node it was read from, so later checks can point at it.
template <typename T>
struct Value {
    T value;
    const toml::node* node;
};

struct StringList {
    std::vector<Value<std::string>> items;
    const toml::node* node;  // the array
};

// 'word', for messages.
[[nodiscard]] std::string in_quotes(std::string_view word);

// The closest of candidates to word by edit distance, if it is close enough
// to be a likely typo.
[[nodiscard]] std::optional<std::string_view> closest(std::string_view word,
                                                      std::span<const std::string_view> candidates);

// "a string", "an integer", ... for "expected X for 'key', not Y".
[[nodiscard]] std::string_view type_name(toml::node_type type) noexcept;

class TableReader {
public:
    // path is the table's dotted name ("peer.site-b"), empty for the top level.
    TableReader(const Source& source, const toml::table& table, std::string path,
                std::initializer_list<std::string_view> known);

    [[nodiscard]] const Source& source() const noexcept { return source_; }
    [[nodiscard]] const toml::table& toml_table() const noexcept { return table_; }
    // "peer.site-b"
    [[nodiscard]] const std::string& name() const noexcept { return path_; }
    // "[peer.site-b]"
    [[nodiscard]] std::string section() const { return "[" + path_ + "]"; }
    [[nodiscard]] bool has(std::string_view key) const;

    // Each read returns nullopt (or nullptr) when the key is absent and fails
    // on a value of the wrong type.
    [[nodiscard]] const toml::node* node(std::string_view key) const;
    [[nodiscard]] std::optional<Value<std::string>> string(std::string_view key) const;
    // The string in the parsed document, not copied: for secrets.
    [[nodiscard]] std::optional<Value<std::string_view>> text(std::string_view key) const;
    [[nodiscard]] std::optional<Value<std::int64_t>> integer(std::string_view key) const;
    [[nodiscard]] std::optional<Value<std::int64_t>> integer(std::string_view key, std::int64_t min,
                                                             std::int64_t max) const;
    [[nodiscard]] std::optional<Value<bool>> boolean(std::string_view key) const;
    [[nodiscard]] std::optional<StringList> strings(std::string_view key) const;
    [[nodiscard]] const toml::table* table(std::string_view key) const;
    [[nodiscard]] std::optional<Value<Duration>> duration(std::string_view key) const;
    // A size string ("200MB", "1GiB") or a whole number of bytes.
    [[nodiscard]] std::optional<Value<std::uint64_t>> byte_count(std::string_view key) const;
    // Relative to the configuration file's folder.
    [[nodiscard]] std::optional<Value<std::filesystem::path>> path(std::string_view key) const;

    // An IP address; a prefix ("10.0.0.0/24", a bare address being a host
    // prefix); a list of prefixes naming networks, no host bits set.
    [[nodiscard]] std::optional<Value<net::IpAddress>> address(std::string_view key) const;
    [[nodiscard]] std::optional<Value<net::IpPrefix>> prefix(std::string_view key) const;
    [[nodiscard]] std::vector<net::IpPrefix> networks(std::string_view key) const;
    void check_network(const Value<net::IpPrefix>& prefix, std::string_view key) const;

    // A name of a section of the kind given, that must be among defined.
    template <typename Map>
    void check_reference(const Value<std::string>& ref, std::string_view kind, const Map& defined) const
    {
        if (defined.contains(ref.value))
            return;
        std::vector<std::string_view> names;
        for (const auto& entry : defined)
            names.push_back(entry.first);
        std::string message = std::string(kind) + " " + in_quotes(ref.value) + " is not defined";
        if (const auto suggestion = closest(ref.value, names))
            message += " (did you mean " + in_quotes(*suggestion) + "?)";
        fail(*ref.node, message);
    }

    // One of allowed; the error suggests the closest.
    [[nodiscard]] std::optional<Value<std::string>> choice(std::string_view key,
                                                           std::span<const std::string_view> allowed) const;
    // A non-empty list of distinct members of allowed.
    [[nodiscard]] std::optional<StringList> choices(std::string_view key,
                                                    std::span<const std::string_view> allowed) const;
    [[nodiscard]] std::optional<std::vector<std::string>> choice_values(std::string_view key,
                                                                        std::span<const std::string_view> allowed) const;

    // A required string: fails at the table's header when absent.
    [[nodiscard]] Value<std::string> required_string(std::string_view key) const;

    [[noreturn]] void fail(const toml::node& at, const std::string& message) const { source_.fail(at, message); }
    // At the table's header: for what is missing from it.
    [[noreturn]] void fail_here(const std::string& message) const { source_.fail(table_.source(), message); }
    [[noreturn]] void fail_missing(std::string_view key) const;

private:
    void check_known(std::string_view key) const;
    void check_member(const Value<std::string>& item, std::string_view key,
                      std::span<const std::string_view> allowed) const;

    const Source& source_;
    const toml::table& table_;
    std::string path_;
    std::vector<std::string_view> known_;
};

} // namespace mesh::config::detail
