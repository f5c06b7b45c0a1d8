#include "tools/common/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <map>

namespace tools {

namespace {

std::vector<std::string_view> split_dots(std::string_view name) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    while (true) {
        const std::size_t dot = name.find('.', start);
        parts.push_back(name.substr(start, dot == std::string_view::npos ? dot : dot - start));
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    return parts;
}

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// A metric-name fragment: [A-Za-z0-9_] kept, everything else '_'.
std::string sanitize(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        const bool ok =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        out += ok ? c : '_';
    }
    return out;
}

std::string escape_label(std::string_view v) {
    std::string out;
    for (char c : v) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '"') {
            out += "\\\"";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

std::string counter_name(std::string base, bool gauge) {
    if (!gauge && !ends_with(base, "_total")) base += "_total";
    return base;
}

}  // namespace

std::vector<Sample> parse_stat_lines(std::string_view text) {
    std::vector<Sample> out;
    while (!text.empty()) {
        const std::size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        // The daemon's log lines may carry a prefix ("tunstackd: stat ..." never; but be lenient
        // about leading spaces).
        while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
        while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.remove_suffix(1);
        if (line.substr(0, 5) != "stat ") continue;
        line.remove_prefix(5);
        const std::size_t sp = line.find(' ');
        if (sp == std::string_view::npos || sp == 0) continue;
        const std::string_view name = line.substr(0, sp);
        const std::string_view value = line.substr(sp + 1);
        std::uint64_t v = 0;
        auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
        if (ec != std::errc() || ptr != value.data() + value.size()) continue;
        out.push_back(Sample{std::string(name), v});
    }
    return out;
}

bool is_gauge(std::string_view name) {
    if (name.substr(0, 10) == "tcp.state." || name == "tcp.listeners") return true;
    const std::size_t dot = name.rfind('.');
    const std::string_view last = dot == std::string_view::npos ? name : name.substr(dot + 1);
    return last == "active" || ends_with(last, "_active") || ends_with(last, "_in_use") ||
           ends_with(last, "_in_flight") || ends_with(last, "_current");
}

PromSeries prometheus_series(std::string_view name) {
    PromSeries s;
    s.gauge = is_gauge(name);
    const auto parts = split_dots(name);
    const std::size_t n = parts.size();
    if (n == 3 && (parts[1] == "drop" || parts[1] == "tx_drop" || parts[1] == "failed" ||
                   ends_with(parts[1], "_failed"))) {
        s.family =
            counter_name("tunstack_" + sanitize(parts[0]) + "_" + std::string(parts[1]), s.gauge);
        s.labels = {{"reason", std::string(parts[2])}};
        s.help = std::string(parts[0]) + "." + std::string(parts[1]) + ".<reason>";
    } else if (n == 3 && parts[0] == "tcp" && parts[1] == "retransmit") {
        s.family = counter_name("tunstack_tcp_retransmit", s.gauge);
        s.labels = {{"cause", std::string(parts[2])}};
        s.help = "tcp.retransmit.<cause>";
    } else if (n == 3 && parts[0] == "tcp" && parts[1] == "state") {
        s.family = "tunstack_tcp_connections";
        s.gauge = true;
        s.labels = {{"state", std::string(parts[2])}};
        s.help = "tcp.state.<state> (connections in each TCP state)";
    } else if (n == 4 && parts[0] == "svc") {
        s.family = counter_name("tunstack_svc_" + sanitize(parts[3]), s.gauge);
        s.labels = {{"service", std::string(parts[1])}, {"port", std::string(parts[2])}};
        s.help = "svc.<service>.<port>." + std::string(parts[3]);
    } else if (n == 3 && parts[0] == "impair") {
        s.family = counter_name("tunstack_impair_" + sanitize(parts[2]), s.gauge);
        s.labels = {{"direction", std::string(parts[1])}};
        s.help = "impair.<direction>." + std::string(parts[2]);
    } else {
        std::string flat = "tunstack";
        for (auto p : parts) flat += "_" + sanitize(p);
        s.family = counter_name(std::move(flat), s.gauge);
        s.help = std::string(name);
    }
    return s;
}

std::string format_prometheus(const std::vector<Sample>& samples) {
    struct Family {
        std::string help;
        bool gauge = false;
        std::vector<std::string> lines;
    };
    std::vector<std::string> order;
    std::map<std::string, Family> families;
    for (const Sample& smp : samples) {
        PromSeries s = prometheus_series(smp.name);
        auto [it, fresh] = families.try_emplace(s.family);
        Family& f = it->second;
        if (fresh) {
            order.push_back(s.family);
            f.help = s.help;
            f.gauge = s.gauge;
        }
        std::string line = s.family;
        if (!s.labels.empty()) {
            line += '{';
            for (std::size_t i = 0; i < s.labels.size(); ++i) {
                if (i > 0) line += ',';
                line += s.labels[i].first + "=\"" + escape_label(s.labels[i].second) + "\"";
            }
            line += '}';
        }
        line += ' ';
        line += std::to_string(smp.value);
        f.lines.push_back(std::move(line));
    }
    std::string out;
    for (const std::string& name : order) {
        const Family& f = families[name];
        out += "# HELP " + name + " tunstack " + (f.gauge ? "gauge " : "counter ") + f.help + "\n";
        out += "# TYPE " + name + (f.gauge ? " gauge\n" : " counter\n");
        for (const std::string& l : f.lines) out += l + "\n";
    }
    return out;
}

std::string format_table(const std::vector<Sample>& samples, bool nonzero) {
    struct Row {
        std::string name, value;
    };
    std::vector<std::string> order;
    std::map<std::string, std::vector<Row>> groups;
    std::size_t name_w = 0, value_w = 0;
    for (const Sample& s : samples) {
        if (nonzero && s.value == 0) continue;
        const auto parts = split_dots(s.name);
        std::size_t take = 1;
        if (parts[0] == "svc" && parts.size() >= 4) take = 3;
        if (parts[0] == "impair" && parts.size() >= 3) take = 2;
        std::string group, rest;
        for (std::size_t i = 0; i < parts.size(); ++i) {
            std::string& dst = i < take ? group : rest;
            if (!dst.empty()) dst += '.';
            dst += parts[i];
        }
        if (rest.empty()) rest = group;
        Row r{rest + (is_gauge(s.name) ? " (now)" : ""), std::to_string(s.value)};
        name_w = std::max(name_w, r.name.size());
        value_w = std::max(value_w, r.value.size());
        auto [it, fresh] = groups.try_emplace(group);
        if (fresh) order.push_back(group);
        it->second.push_back(std::move(r));
    }
    std::string out;
    for (const std::string& g : order) {
        if (!out.empty()) out += '\n';
        out += g + "\n";
        for (const Row& r : groups[g]) {
            out += "  " + r.name + std::string(name_w - r.name.size() + 2, ' ') +
                   std::string(value_w - r.value.size(), ' ') + r.value + "\n";
        }
    }
    return out;
}

}  // namespace tools
