// FaultConfig::parse / to_string: the "loss=3%,dup=1%,delay=10ms,seed=7" syntax (a CLI contract).
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>

#include "drivers/fault_injector.hpp"

namespace drivers {
namespace {

constexpr const char* kKnownKeys =
    "loss, dup, reorder, corrupt, delay, jitter, reorder_delay, capacity, seed";

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

Error bad(std::string_view key, std::string_view value, std::string_view expected) {
    return Error::invalid("fault spec: bad value '" + std::string(value) + "' for " +
                          std::string(key) + ": expected " + std::string(expected));
}

// Parses a whole string as a finite, non-negative decimal number.
bool parse_number(std::string_view text, double& out) {
    if (text.empty() || text.front() == '+' || text.front() == '-') return false;
    auto [end, ec] =
        std::from_chars(text.data(), text.data() + text.size(), out, std::chars_format::general);
    return ec == std::errc() && end == text.data() + text.size() && std::isfinite(out);
}

stack::Result<double, Error> parse_rate(std::string_view key, std::string_view value) {
    constexpr const char* kExpect = "a percentage such as 3% or 0.1%";
    if (value == "0") return 0.0;
    if (value.empty() || value.back() != '%') return stack::Err{bad(key, value, kExpect)};
    double pct = 0;
    if (!parse_number(value.substr(0, value.size() - 1), pct)) {
        return stack::Err{bad(key, value, kExpect)};
    }
    if (pct > 100.0) {
        return stack::Err{bad(key, value, "a percentage between 0% and 100%")};
    }
    return pct / 100.0;
}

stack::Result<stack::Duration, Error> parse_duration(std::string_view key, std::string_view value) {
    constexpr const char* kExpect = "a duration such as 10ms, 250us or 1s";
    if (value == "0") return stack::Duration::zero();
    double scale = 0;
    std::string_view number;
    if (value.size() > 2 && value.substr(value.size() - 2) == "us") {
        scale = 1;
        number = value.substr(0, value.size() - 2);
    } else if (value.size() > 2 && value.substr(value.size() - 2) == "ms") {
        scale = 1e3;
        number = value.substr(0, value.size() - 2);
    } else if (value.size() > 1 && value.back() == 's') {
        scale = 1e6;
        number = value.substr(0, value.size() - 1);
    } else {
        return stack::Err{bad(key, value, kExpect)};
    }
    double n = 0;
    if (!parse_number(number, n)) return stack::Err{bad(key, value, kExpect)};
    double us = n * scale;
    if (us > 3600e6) return stack::Err{bad(key, value, "a duration of at most one hour")};
    return stack::Duration::micros(static_cast<std::int64_t>(std::llround(us)));
}

stack::Result<std::uint64_t, Error> parse_unsigned(std::string_view key, std::string_view value,
                                                   std::string_view expected) {
    std::uint64_t v = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (value.empty() || ec != std::errc() || end != value.data() + value.size()) {
        return stack::Err{bad(key, value, expected)};
    }
    return v;
}

std::string format_rate(double rate) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g%%", rate * 100.0);
    return buf;
}

std::string format_duration(stack::Duration d) { return std::to_string(d.as_micros()) + "us"; }

}  // namespace

stack::Result<FaultConfig, Error> FaultConfig::parse(std::string_view spec) {
    FaultConfig config;
    std::uint32_t seen = 0;  // one bit per key, to reject repeats
    spec = trim(spec);
    if (spec.empty()) return config;
    // Bounded: every iteration consumes one comma-separated item.
    while (true) {
        std::size_t comma = spec.find(',');
        std::string_view item = trim(spec.substr(0, comma));
        if (item.empty()) {
            return stack::Err{Error::invalid("fault spec: empty item (stray comma?)")};
        }
        std::size_t eq = item.find('=');
        if (eq == std::string_view::npos) {
            return stack::Err{Error::invalid("fault spec: missing '=' in '" + std::string(item) +
                                             "' (expected key=value)")};
        }
        std::string_view key = trim(item.substr(0, eq));
        std::string_view value = trim(item.substr(eq + 1));

        int bit = -1;
        if (key == "loss") {
            bit = 0;
            auto r = parse_rate(key, value);
            if (!r) return stack::Err{r.error()};
            config.loss = *r;
        } else if (key == "dup" || key == "duplicate") {
            bit = 1;
            auto r = parse_rate(key, value);
            if (!r) return stack::Err{r.error()};
            config.duplicate = *r;
        } else if (key == "reorder") {
            bit = 2;
            auto r = parse_rate(key, value);
            if (!r) return stack::Err{r.error()};
            config.reorder = *r;
        } else if (key == "corrupt") {
            bit = 3;
            auto r = parse_rate(key, value);
            if (!r) return stack::Err{r.error()};
            config.corrupt = *r;
        } else if (key == "delay") {
            bit = 4;
            auto r = parse_duration(key, value);
            if (!r) return stack::Err{r.error()};
            config.delay = *r;
        } else if (key == "jitter") {
            bit = 5;
            auto r = parse_duration(key, value);
            if (!r) return stack::Err{r.error()};
            config.jitter = *r;
        } else if (key == "reorder_delay") {
            bit = 6;
            auto r = parse_duration(key, value);
            if (!r) return stack::Err{r.error()};
            config.reorder_delay = *r;
        } else if (key == "capacity") {
            bit = 7;
            auto r = parse_unsigned(key, value, "a packet count of at least 1");
            if (!r) return stack::Err{r.error()};
            if (*r == 0 || *r > (1u << 24)) {
                return stack::Err{bad(key, value, "a packet count between 1 and 16777216")};
            }
            config.capacity = static_cast<std::size_t>(*r);
        } else if (key == "seed") {
            bit = 8;
            auto r = parse_unsigned(key, value, "an unsigned 64-bit integer");
            if (!r) return stack::Err{r.error()};
            config.seed = *r;
        } else {
            return stack::Err{Error::invalid("fault spec: unknown key '" + std::string(key) +
                                             "' (known: " + kKnownKeys + ")")};
        }
        if ((seen & (1u << bit)) != 0) {
            return stack::Err{
                Error::invalid("fault spec: key '" + std::string(key) + "' given twice")};
        }
        seen |= 1u << bit;

        if (comma == std::string_view::npos) break;
        spec.remove_prefix(comma + 1);
    }
    return config;
}

std::string FaultConfig::to_string() const {
    return "loss=" + format_rate(loss) + ",dup=" + format_rate(duplicate) +
           ",reorder=" + format_rate(reorder) + ",corrupt=" + format_rate(corrupt) +
           ",delay=" + format_duration(delay) + ",jitter=" + format_duration(jitter) +
           ",reorder_delay=" + format_duration(reorder_delay) +
           ",capacity=" + std::to_string(capacity) + ",seed=" + std::to_string(seed);
}

}  // namespace drivers
