#pragma once
// The output of the import (TOML sections with the comments saying what was
// not mapped), the RouterOS items it is made from, and the writers of the
// sections that map one RouterOS item each: profile, proposal, mode config.

#include "tools/routeros/rsc_reader.hpp"

#include <cstddef>
#include <deque>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace mesh::routeros {

// One RouterOS item: its add command, with the arguments of later sets appended.
struct Item {
    Command command;
    bool is_default = false;   // RouterOS's own item (`set [ find default=yes ]`)

    [[nodiscard]] const std::string* get(std::string_view key) const { return command.get(key); }
    // The value given, or RouterOS's default for it.
    [[nodiscard]] std::string arg(std::string_view key, std::string_view routeros_default) const;
    [[nodiscard]] std::string name() const { return arg("name", ""); }
    [[nodiscard]] bool disabled() const { return arg("disabled", "no") == "yes"; }
    [[nodiscard]] std::string comment() const { return arg("comment", ""); }
};

class Section {
public:
    Section(std::string header, std::string comment) : header_(std::move(header)), comment_(std::move(comment)) {}

    // key = value, value already in TOML.
    void set(std::string_view key, const std::string& value);
    // What could not be mapped: "# line N: text", counted.
    void note(const Item& from, const std::string& text);
    void note_text(const std::string& text);
    // What the operator must do, not a loss: "# text", not counted.
    void remark(const std::string& text);
    // A note for each argument of from that is not among handled.
    void unmapped(const Item& from, std::initializer_list<std::string_view> handled);

    [[nodiscard]] const std::string& header() const noexcept { return header_; }
    [[nodiscard]] std::size_t notes() const noexcept { return notes_; }
    [[nodiscard]] std::string text() const;

private:
    std::string header_;
    std::string comment_;
    std::vector<std::string> lines_;
    std::size_t notes_ = 0;
};

class Output {
public:
    // Stays where it is as sections are added.
    Section& add(const std::string& header, const std::string& comment = "");
    void note(const Item& from, const std::string& text);
    void preamble_note(const std::string& text);
    void preamble_remark(const std::string& text);

    // Sections in the order of docs/configuration.md: site, profiles,
    // proposals, mode configs, peers, tunnels.
    [[nodiscard]] std::string text(std::string_view routeros_version) const;
    [[nodiscard]] std::size_t section_count() const noexcept { return sections_.size(); }
    [[nodiscard]] std::size_t note_count() const;

private:
    std::vector<std::string> preamble_;
    std::size_t preamble_notes_ = 0;
    std::deque<Section> sections_;
};

using ItemsByName = std::map<std::string, const Item*>;

// RouterOS items whose name is not written: RouterOS's default profile and
// proposal, made when a peer or policy uses them without the export setting them.
[[nodiscard]] Item routeros_default(std::string_view name);

void write_profile(Output& out, const Item& profile);
void write_proposal(Output& out, const Item& proposal);

// The prefix of the pool a responder mode config leases from, nullopt when
// the export does not say (then the mode config cannot be mapped).
[[nodiscard]] const Item* served_pool(const Item& mode_config, const ItemsByName& pools);
void write_mode_config(Output& out, const Item& mode_config, const ItemsByName& pools);

} // namespace mesh::routeros
