#pragma once
// The Prometheus text exposition format, version 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/):
//
//   # HELP mesh_site_tunnel_up Whether the tunnel carries traffic (1) or not (0).
//   # TYPE mesh_site_tunnel_up gauge
//   mesh_site_tunnel_up{tunnel="a-b",peer="site-b",interface="mesh0"} 1
//
// A family is its HELP and TYPE lines followed by all its samples: the
// caller writes one family at a time. Names are checked here, once per
// family, so a misspelt one fails every test that renders it rather than a
// scrape in production.

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

namespace mesh::metrics {

enum class MetricType : std::uint8_t {
    counter,   // only goes up (from 0 at start); its name ends in _total
    gauge,     // goes up and down
};

struct Label {
    std::string_view name;
    std::string_view value;
};

// The content type of what Exposition writes, for the HTTP answer.
inline constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";

class Exposition {
public:
    // Starts a family: its HELP and TYPE lines. Throws std::invalid_argument
    // for a name that is not [a-zA-Z_:][a-zA-Z0-9_:]*, or a counter's that
    // does not end in _total, or a gauge's that does.
    void family(std::string_view name, MetricType type, std::string_view help);

    // A sample of the family last started. Label names must be
    // [a-zA-Z_][a-zA-Z0-9_]* and not start with "__" (std::invalid_argument);
    // values may hold anything, escaped here.
    void sample(std::span<const Label> labels, std::uint64_t value);
    void sample(std::span<const Label> labels, double value);
    void sample(std::initializer_list<Label> labels, std::uint64_t value)
    {
        sample(std::span<const Label>(labels.begin(), labels.size()), value);
    }
    void sample(std::initializer_list<Label> labels, double value)
    {
        sample(std::span<const Label>(labels.begin(), labels.size()), value);
    }

    [[nodiscard]] const std::string& text() const noexcept { return text_; }
    [[nodiscard]] std::string take() noexcept { return std::move(text_); }

private:
    void labels(std::span<const Label> labels);

    std::string text_;
    std::string name_;   // of the family being written
};

// A label value or HELP text as the format wants it: backslash and newline
// escaped, and in label values the double quote too.
[[nodiscard]] std::string escape_label_value(std::string_view value);
[[nodiscard]] std::string escape_help(std::string_view help);
[[nodiscard]] bool valid_metric_name(std::string_view name) noexcept;
[[nodiscard]] bool valid_label_name(std::string_view name) noexcept;

} // namespace mesh::metrics
