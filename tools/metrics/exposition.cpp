#include "tools/metrics/exposition.hpp"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

namespace mesh::metrics {

namespace {
bool letter(char c) noexcept
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool digit(char c) noexcept
{
    return c >= '0' && c <= '9';
}

void append_escaped(std::string& out, std::string_view text, bool quote)
{
    if (text.find_first_of(quote ? "\\\n\"" : "\\\n") == std::string_view::npos) {
        out += text;   // names and identities almost always
        return;
    }
    for (const char c : text) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else if (c == '"' && quote)
            out += "\\\"";
        else
            out += c;
    }
}

std::string escape(std::string_view text, bool quote)
{
    std::string out;
    out.reserve(text.size());
    append_escaped(out, text, quote);
    return out;
}
} // namespace

std::string escape_label_value(std::string_view value)
{
    return escape(value, true);
}

std::string escape_help(std::string_view help)
{
    return escape(help, false);
}

bool valid_metric_name(std::string_view name) noexcept
{
    if (name.empty() || !(letter(name.front()) || name.front() == ':'))
        return false;
    for (const char c : name)
        if (!letter(c) && !digit(c) && c != ':')
            return false;
    return true;
}

bool valid_label_name(std::string_view name) noexcept
{
    if (name.empty() || !letter(name.front()) || name.starts_with("__"))
        return false;
    for (const char c : name)
        if (!letter(c) && !digit(c))
            return false;
    return true;
}

void Exposition::family(std::string_view name, MetricType type, std::string_view help)
{
    if (!valid_metric_name(name))
        throw std::invalid_argument(fmt::format("metric name '{}' is not [a-zA-Z_:][a-zA-Z0-9_:]*", name));
    if ((type == MetricType::counter) != name.ends_with("_total"))
        throw std::invalid_argument(fmt::format("metric '{}': counters, and only counters, end in _total", name));
    name_ = name;
    text_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, escape_help(help), name,
                         type == MetricType::counter ? "counter" : "gauge");
}

void Exposition::labels(std::span<const Label> labels)
{
    if (name_.empty())
        throw std::logic_error("a metric sample before its family");
    text_ += name_;
    if (labels.empty())
        return;
    char separator = '{';
    for (const auto& label : labels) {
        if (!valid_label_name(label.name))
            throw std::invalid_argument(fmt::format("metric '{}': label name '{}' is not valid", name_, label.name));
        text_ += separator;
        text_ += label.name;
        text_ += "=\"";
        append_escaped(text_, label.value, true);
        text_ += '"';
        separator = ',';
    }
    text_ += '}';
}

void Exposition::sample(std::span<const Label> labels, std::uint64_t value)
{
    this->labels(labels);
    const fmt::format_int digits(value);
    text_ += ' ';
    text_.append(digits.data(), digits.size());
    text_ += '\n';
}

void Exposition::sample(std::span<const Label> labels, double value)
{
    this->labels(labels);
    if (std::isnan(value))
        text_ += " NaN\n";
    else if (std::isinf(value))
        text_ += value > 0 ? " +Inf\n" : " -Inf\n";
    else
        fmt::format_to(std::back_inserter(text_), " {}\n", value);
}

} // namespace mesh::metrics
