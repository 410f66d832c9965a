#include "tools/routeros/rsc_reader.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace mesh::routeros {
namespace {

// The verbs of a menu; a word of a menu path is anything else.
constexpr std::array<std::string_view, 8> verbs{"add", "set", "remove", "print", "enable", "disable", "unset", "edit"};

bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    const char lower = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower >= 'a' && lower <= 'f')
        return lower - 'a' + 10;
    return -1;
}

std::string trimmed(std::string_view s)
{
    const auto begin = s.find_first_not_of(" \t\r");
    if (begin == std::string_view::npos)
        return {};
    const auto end = s.find_last_not_of(" \t\r");
    return std::string(s.substr(begin, end - begin + 1));
}

// `[ find default=yes ]` -> "default"; `[ find name=x ]`, `[ find where name=x ]` -> "x";
// a bare word is a name (or an item number, which an export does not use).
std::string selector_of(const std::string& word, std::uint32_t line)
{
    if (word.size() < 2 || word.front() != '[')
        return word;
    const LogicalLine inner{word.substr(1, word.size() - 2), line};
    for (const auto& w : split_words(inner)) {
        if (w == "default=yes")
            return "default";
        if (w.starts_with("name="))
            return w.substr(5);
    }
    return trimmed(inner.text);
}

} // namespace

RscError::RscError(std::uint32_t line, std::uint32_t column, const std::string& message)
    : std::runtime_error(std::to_string(line) + ":" + std::to_string(column) + ": " + message), line_(line)
{
}

const std::string* Command::get(std::string_view key) const
{
    // A key given twice: RouterOS keeps the last.
    const auto it = std::ranges::find(arguments.rbegin(), arguments.rend(), key, &Argument::key);
    return it == arguments.rend() ? nullptr : &it->value;
}

std::string Command::show(std::string_view key) const
{
    const std::string* value = get(key);
    if (value == nullptr)
        return std::string(key);
    const bool quote = value->empty() || value->find_first_of(" \t\"") != std::string::npos;
    return std::string(key) + "=" + (quote ? "\"" + *value + "\"" : *value);
}

std::vector<LogicalLine> join_lines(std::string_view text)
{
    std::vector<LogicalLine> out;
    std::string current;
    std::uint32_t line = 1;
    std::uint32_t start = 1;
    bool quoted = false;
    std::uint32_t quote_column = 0;   // of the quote that opened the value, for the error
    bool comment = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        const bool at_line_start = current.empty();
        if (at_line_start && !quoted)
            comment = c == '#';
        if (c == '\\' && !comment) {
            // A backslash before the end of the line continues it; the next
            // line is indented by (up to) four spaces, which are not part of it.
            std::size_t next = i + 1;
            if (next < text.size() && text[next] == '\r')
                ++next;
            if (next < text.size() && text[next] == '\n') {
                ++line;
                i = next;
                for (int indent = 0; indent < 4 && i + 1 < text.size() && text[i + 1] == ' '; ++indent)
                    ++i;
                continue;
            }
            current += c;
            if (quoted && next < text.size()) {
                current += text[next];   // an escaped character, a quote perhaps
                i = next;
            }
            continue;
        }
        if (c == '"' && !comment) {
            quoted = !quoted;
            quote_column = static_cast<std::uint32_t>(current.size() + 1);
        }
        if (c == '\n') {
            if (quoted)
                throw RscError(start, quote_column, "unterminated quoted value");
            if (!current.empty() && current.back() == '\r')
                current.pop_back();
            out.push_back({std::move(current), start});
            current.clear();
            comment = false;
            start = ++line;
            continue;
        }
        current += c;
    }
    if (quoted)
        throw RscError(start, quote_column, "unterminated quoted value");
    if (!current.empty())
        out.push_back({std::move(current), start});
    return out;
}

std::vector<std::string> split_words(const LogicalLine& line)
{
    std::vector<std::string> words;
    const std::string& s = line.text;
    std::string word;
    bool in_word = false;
    bool quoted = false;
    int brackets = 0;
    const auto fail = [&](std::size_t at, const std::string& message) {
        throw RscError(line.line, static_cast<std::uint32_t>(at + 1), message);
    };
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (!quoted && brackets == 0 && is_space(c)) {
            if (in_word)
                words.push_back(std::move(word));
            word.clear();
            in_word = false;
            continue;
        }
        in_word = true;
        if (brackets > 0) {
            // Kept as written: selector_of splits it again.
            word += c;
            if (c == '"')
                quoted = !quoted;
            else if (c == '\\' && quoted && i + 1 < s.size())
                word += s[++i];
            else if (!quoted && c == '[')
                ++brackets;
            else if (!quoted && c == ']')
                --brackets;
            continue;
        }
        if (c == '"') {
            quoted = !quoted;
            continue;
        }
        if (!quoted && c == '[') {
            ++brackets;
            word += c;
            continue;
        }
        if (c != '\\' || !quoted) {
            word += c;
            continue;
        }
        if (i + 1 >= s.size())
            fail(i, "a backslash ends the line inside a quoted value");
        const char e = s[++i];
        switch (e) {
        case '"': case '\\': case '$': case '?': word += e; break;
        case '_': word += ' '; break;
        case 'n': word += '\n'; break;
        case 'r': word += '\r'; break;
        case 't': word += '\t'; break;
        case 'a': word += '\a'; break;
        case 'b': word += '\b'; break;
        case 'f': word += '\f'; break;
        case 'v': word += '\v'; break;
        default: {
            const int high = hex_digit(e);
            const int low = i + 1 < s.size() ? hex_digit(s[i + 1]) : -1;
            if (high < 0 || low < 0)
                fail(i - 1, std::string("unknown escape \\") + e + " in a quoted value");
            word += static_cast<char>(high * 16 + low);
            ++i;
        }
        }
    }
    if (quoted)
        fail(s.size(), "unterminated quoted value");
    if (brackets > 0)
        fail(s.size(), "unterminated [");
    if (in_word)
        words.push_back(std::move(word));
    return words;
}

Export read_rsc(std::string_view text)
{
    Export out;
    std::string menu;
    for (const auto& logical : join_lines(text)) {
        const std::string line = trimmed(logical.text);
        if (line.empty())
            continue;
        if (line.front() == '#') {
            constexpr std::string_view by = " by RouterOS ";
            if (const auto at = line.find(by); at != std::string::npos && out.version.empty())
                out.version = trimmed(std::string_view(line).substr(at + by.size()));
            continue;
        }
        auto words = split_words({line, logical.line});
        std::size_t next = 0;
        if (words[0].starts_with('/')) {
            // A menu path: its words up to a verb, if any.
            menu.clear();
            while (next < words.size() && std::ranges::find(verbs, words[next]) == verbs.end() &&
                   words[next].find('=') == std::string::npos) {
                const std::string_view w = words[next];
                menu += (next == 0 ? std::string(w) : " " + std::string(w));
                ++next;
            }
            if (next == words.size())
                continue;
        }
        Command command;
        command.menu = menu;
        command.line = logical.line;
        command.verb = words[next++];
        if (command.verb != "add" && next < words.size() &&
            (words[next].starts_with('[') || words[next].find('=') == std::string::npos))
            command.selector = selector_of(words[next++], logical.line);
        for (; next < words.size(); ++next) {
            const auto equals = words[next].find('=');
            if (equals == std::string::npos)
                command.arguments.push_back({words[next], ""});
            else
                command.arguments.push_back({words[next].substr(0, equals), words[next].substr(equals + 1)});
        }
        out.commands.push_back(std::move(command));
    }
    return out;
}

} // namespace mesh::routeros
