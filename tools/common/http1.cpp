#include "tools/common/http1.hpp"

#include <cctype>
#include <charconv>

namespace tools::http1 {

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i]))) {
            return false;
        }
    }
    return true;
}

std::string to_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

bool is_tchar(char c) {
    if (std::isalnum(static_cast<unsigned char>(c))) return true;
    switch (c) {
        case '!':
        case '#':
        case '$':
        case '%':
        case '&':
        case '\'':
        case '*':
        case '+':
        case '-':
        case '.':
        case '^':
        case '_':
        case '`':
        case '|':
        case '~': return true;
        default: return false;
    }
}

bool is_token(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s) {
        if (!is_tchar(c)) return false;
    }
    return true;
}

std::string_view trim_ows(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

std::string_view trim_ows_cr(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
        s.remove_suffix(1);
    }
    return s;
}

std::optional<std::string_view> next_line(std::string_view data, std::size_t& pos) {
    if (pos > data.size()) return std::nullopt;
    const std::size_t nl = data.find('\n', pos);
    if (nl == std::string_view::npos) return std::nullopt;
    std::string_view line = data.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = nl + 1;
    return line;
}

std::optional<Field> split_field(std::string_view line) {
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    return Field{line.substr(0, colon), trim_ows(line.substr(colon + 1))};
}

bool list_has(std::string_view value, std::string_view token) {
    while (!value.empty()) {
        const std::size_t comma = value.find(',');
        if (iequals(trim_ows(value.substr(0, comma)), token)) return true;
        if (comma == std::string_view::npos) break;
        value.remove_prefix(comma + 1);
    }
    return false;
}

std::optional<std::uint64_t> parse_content_length(std::string_view value) {
    std::uint64_t n = 0;
    auto [p, e] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (value.empty() || e != std::errc() || p != value.data() + value.size()) return std::nullopt;
    return n;
}

std::optional<std::uint64_t> parse_chunk_size(std::string_view line, std::string_view& size_text) {
    size_text = trim_ows_cr(line.substr(0, line.find(';')));  // chunk extensions ignored
    const std::string_view s = size_text;
    std::uint64_t n = 0;
    auto [p, e] = std::from_chars(s.data(), s.data() + s.size(), n, 16);
    if (s.empty() || s.size() > 15 || e != std::errc() || p != s.data() + s.size()) {
        return std::nullopt;
    }
    return n;
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

stack::Result<StatusLine, StatusLineError> parse_status_line(std::string_view line) {
    if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || line[8] != ' ') {
        return stack::Err(StatusLineError::Malformed);
    }
    int code = 0;
    auto [ptr, ec] = std::from_chars(line.data() + 9, line.data() + 12, code);
    if (ec != std::errc() || ptr != line.data() + 12 || code < 100 || code > 599) {
        return stack::Err(StatusLineError::BadCode);
    }
    return StatusLine{code, trim_ows(line.substr(12))};
}

std::string status_line(int code, std::string_view reason) {
    std::string out = "HTTP/1.1 ";
    out.append(std::to_string(code)).append(1, ' ').append(reason).append("\r\n");
    return out;
}

}  // namespace tools::http1
