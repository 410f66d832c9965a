#pragma once
// Reading a RouterOS 7 `/export` (.rsc) into commands, as RouterOS prints it:
//   # 2026-12-05 18:40:02 by RouterOS 7.16.2     header comments (the version is kept)
//   /ip ipsec peer                                a menu path: the commands below are in it
//   add address=192.0.2.2/32 name=b \             add/set lines; `\` at the end of a line
//       profile=strong                            continues it on the next, indented 4 spaces
//   set [ find default=yes ] enc-algorithms=...   set with a selector
//   add comment="a \"quoted\" value" ...          quoted values with RouterOS's escapes
// A command may also name its menu itself (`/ip ipsec peer add ...`).

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace mesh::routeros {

// A line of the export that cannot be read (an unterminated quote, a bad
// escape): what() is "LINE:COL: message".
class RscError : public std::runtime_error {
public:
    RscError(std::uint32_t line, std::uint32_t column, const std::string& message);
    [[nodiscard]] std::uint32_t line() const noexcept { return line_; }

private:
    std::uint32_t line_;
};

struct Argument {
    std::string key;
    std::string value;      // unquoted, escapes resolved
};

struct Command {
    std::string menu;       // "/ip ipsec peer"
    std::string verb;       // "add", "set", "remove", ...
    // What a `set` changes: "default" for `[ find default=yes ]`, the name
    // of `[ find name=X ]` or of a bare word; empty for `add`.
    std::string selector;
    std::vector<Argument> arguments;
    std::uint32_t line = 0; // where the command starts in the file

    // The value of key, or nullptr when the command does not give it.
    [[nodiscard]] const std::string* get(std::string_view key) const;
    // key=value as the export wrote it (quoted when it holds a space), for comments.
    [[nodiscard]] std::string show(std::string_view key) const;
};

struct Export {
    std::string version;    // "7.16.2", from the header; empty when absent
    std::vector<Command> commands;
};

// Physical lines joined where one ends with `\`; each logical line with the
// number of its first physical line. Quotes are followed, so an escaped
// backslash at the end of a quoted value is not a continuation.
struct LogicalLine {
    std::string text;
    std::uint32_t line;
};
[[nodiscard]] std::vector<LogicalLine> join_lines(std::string_view text);

// The words of one logical line: spaces separate them outside quotes and
// `[ ... ]`; quotes are removed and escapes resolved (`\"`, `\\`, `\n`,
// `\t`, `\r`, `\$`, `\?`, `\_` for a space, `\XX` in hex).
[[nodiscard]] std::vector<std::string> split_words(const LogicalLine& line);

// Throws RscError.
[[nodiscard]] Export read_rsc(std::string_view text);

} // namespace mesh::routeros
