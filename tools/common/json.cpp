#include "tools/common/json.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace tools::json {

Value Value::boolean(bool b) {
    Value v;
    v.type_ = Type::Bool;
    v.bool_ = b;
    return v;
}

Value Value::number(double d) {
    Value v;
    v.type_ = Type::Number;
    v.number_ = d;
    return v;
}

Value Value::integer(std::int64_t i) {
    Value v;
    v.type_ = Type::Number;
    v.number_ = static_cast<double>(i);
    v.has_int_ = true;
    v.int_ = i;
    return v;
}

Value Value::string(std::string s) {
    Value v;
    v.type_ = Type::String;
    v.string_ = std::move(s);
    return v;
}

Value Value::array() {
    Value v;
    v.type_ = Type::Array;
    return v;
}

Value Value::object() {
    Value v;
    v.type_ = Type::Object;
    return v;
}

std::optional<std::int64_t> Value::as_int() const {
    if (type_ != Type::Number) return std::nullopt;
    if (has_int_) return int_;
    // 2^63 as a double: anything at or beyond it (or NaN) does not fit.
    if (!(number_ >= -9223372036854775808.0 && number_ < 9223372036854775808.0))
        return std::nullopt;
    if (std::trunc(number_) != number_) return std::nullopt;
    return static_cast<std::int64_t>(number_);
}

const Value* Value::find(std::string_view name) const {
    if (type_ != Type::Object) return nullptr;
    for (const auto& [k, v] : members_) {
        if (k == name) return &v;
    }
    return nullptr;
}

Value& Value::set(std::string name, Value v) {
    for (auto& [k, existing] : members_) {
        if (k == name) {
            existing = std::move(v);
            return existing;
        }
    }
    members_.emplace_back(std::move(name), std::move(v));
    return members_.back().second;
}

Value& Value::push(Value v) {
    items_.push_back(std::move(v));
    return items_.back();
}

namespace {

class Parser {
public:
    Parser(std::string_view text, const Limits& limits) : s_(text), limits_(limits) {}

    stack::Result<Value, std::string> run() {
        if (s_.size() > limits_.max_bytes) {
            return stack::Err("JSON text of " + std::to_string(s_.size()) +
                              " bytes is over the limit of " + std::to_string(limits_.max_bytes));
        }
        skip_ws();
        Value v;
        if (!value(v, 0)) return stack::Err(error_);
        skip_ws();
        if (pos_ != s_.size()) {
            fail("unexpected text after the value");
            return stack::Err(error_);
        }
        return v;
    }

private:
    bool fail(const std::string& what) {
        if (error_.empty()) error_ = "JSON: at offset " + std::to_string(pos_) + ": " + what;
        return false;
    }
    bool at_end() const { return pos_ >= s_.size(); }
    char peek() const { return at_end() ? '\0' : s_[pos_]; }
    void skip_ws() {
        while (!at_end() &&
               (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
            ++pos_;
        }
    }
    bool literal(std::string_view word) {
        if (s_.substr(pos_, word.size()) != word) return fail("invalid literal");
        pos_ += word.size();
        return true;
    }

    bool value(Value& out, std::size_t depth) {
        if (at_end()) return fail("unexpected end of text");
        switch (peek()) {
            case '{': return object(out, depth + 1);
            case '[': return array(out, depth + 1);
            case '"': {
                std::string str;
                if (!string(str)) return false;
                out = Value::string(std::move(str));
                return true;
            }
            case 't': out = Value::boolean(true); return literal("true");
            case 'f': out = Value::boolean(false); return literal("false");
            case 'n': out = Value(); return literal("null");
            default: return number(out);
        }
    }

    bool object(Value& out, std::size_t depth) {
        if (depth > limits_.max_depth)
            return fail("nested deeper than " + std::to_string(limits_.max_depth));
        ++pos_;  // '{'
        out = Value::object();
        skip_ws();
        if (peek() == '}') {
            ++pos_;
            return true;
        }
        while (true) {
            skip_ws();
            if (peek() != '"') return fail("expected a member name");
            std::string name;
            if (!string(name)) return false;
            if (out.find(name) != nullptr) return fail("duplicate member name \"" + name + "\"");
            skip_ws();
            if (peek() != ':') return fail("expected ':'");
            ++pos_;
            skip_ws();
            Value v;
            if (!value(v, depth)) return false;
            out.set(std::move(name), std::move(v));
            skip_ws();
            if (peek() == ',') {
                ++pos_;
                continue;
            }
            if (peek() == '}') {
                ++pos_;
                return true;
            }
            return fail("expected ',' or '}'");
        }
    }

    bool array(Value& out, std::size_t depth) {
        if (depth > limits_.max_depth)
            return fail("nested deeper than " + std::to_string(limits_.max_depth));
        ++pos_;  // '['
        out = Value::array();
        skip_ws();
        if (peek() == ']') {
            ++pos_;
            return true;
        }
        while (true) {
            skip_ws();
            Value v;
            if (!value(v, depth)) return false;
            out.push(std::move(v));
            skip_ws();
            if (peek() == ',') {
                ++pos_;
                continue;
            }
            if (peek() == ']') {
                ++pos_;
                return true;
            }
            return fail("expected ',' or ']'");
        }
    }

    bool hex4(std::uint32_t& out) {
        if (s_.size() - pos_ < 4) return fail("truncated \\u escape");
        out = 0;
        for (int i = 0; i < 4; ++i) {
            const char c = s_[pos_++];
            out <<= 4;
            if (c >= '0' && c <= '9') {
                out |= static_cast<std::uint32_t>(c - '0');
            } else if (c >= 'a' && c <= 'f') {
                out |= static_cast<std::uint32_t>(c - 'a' + 10);
            } else if (c >= 'A' && c <= 'F') {
                out |= static_cast<std::uint32_t>(c - 'A' + 10);
            } else {
                return fail("bad hex digit in \\u escape");
            }
        }
        return true;
    }

    static void put_utf8(std::string& out, std::uint32_t cp) {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        }
    }

    // One UTF-8 sequence starting at pos_ (RFC 3629: shortest form, no surrogates, <= U+10FFFF).
    bool utf8(std::string& out) {
        const auto b0 = static_cast<unsigned char>(s_[pos_]);
        std::size_t len = 0;
        std::uint32_t cp = 0;
        if (b0 >= 0xC2 && b0 <= 0xDF) {
            len = 2;
            cp = b0 & 0x1F;
        } else if (b0 >= 0xE0 && b0 <= 0xEF) {
            len = 3;
            cp = b0 & 0x0F;
        } else if (b0 >= 0xF0 && b0 <= 0xF4) {
            len = 4;
            cp = b0 & 0x07;
        } else {
            return fail("invalid UTF-8");
        }
        if (s_.size() - pos_ < len) return fail("truncated UTF-8");
        for (std::size_t i = 1; i < len; ++i) {
            const auto b = static_cast<unsigned char>(s_[pos_ + i]);
            if ((b & 0xC0) != 0x80) return fail("invalid UTF-8");
            cp = cp << 6 | (b & 0x3F);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF)) {
            return fail("invalid UTF-8");
        }
        out.append(s_.substr(pos_, len));
        pos_ += len;
        return true;
    }

    bool string(std::string& out) {
        ++pos_;  // '"'
        while (true) {
            if (at_end()) return fail("unterminated string");
            const auto c = static_cast<unsigned char>(s_[pos_]);
            if (c == '"') {
                ++pos_;
                return true;
            }
            if (c < 0x20) return fail("control character in a string");
            if (c >= 0x80) {
                if (!utf8(out)) return false;
                continue;
            }
            if (c != '\\') {
                out += static_cast<char>(c);
                ++pos_;
                continue;
            }
            ++pos_;
            if (at_end()) return fail("unterminated escape");
            const char e = s_[pos_++];
            switch (e) {
                case '"': out += '"'; break;
                case '\\': out += '\\'; break;
                case '/': out += '/'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                case 'u': {
                    std::uint32_t cp = 0;
                    if (!hex4(cp)) return false;
                    if (cp >= 0xDC00 && cp <= 0xDFFF) return fail("lone low surrogate");
                    if (cp >= 0xD800 && cp <= 0xDBFF) {
                        std::uint32_t lo = 0;
                        if (s_.substr(pos_, 2) != "\\u") return fail("lone high surrogate");
                        pos_ += 2;
                        if (!hex4(lo)) return false;
                        if (lo < 0xDC00 || lo > 0xDFFF) return fail("lone high surrogate");
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    }
                    put_utf8(out, cp);
                    break;
                }
                default: --pos_; return fail("invalid escape");
            }
        }
    }

    // RFC 8259 §6: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
    bool number(Value& out) {
        const std::size_t start = pos_;
        auto digits = [&] {
            const std::size_t from = pos_;
            while (!at_end() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
            return pos_ - from;
        };
        if (peek() == '-') ++pos_;
        if (peek() == '0') {
            ++pos_;
            if (peek() >= '0' && peek() <= '9') return fail("leading zero in a number");
        } else if (digits() == 0) {
            pos_ = start;
            return fail("unexpected character");
        }
        bool integral = true;
        if (peek() == '.') {
            ++pos_;
            integral = false;
            if (digits() == 0) return fail("expected digits after '.'");
        }
        if (peek() == 'e' || peek() == 'E') {
            ++pos_;
            integral = false;
            if (peek() == '+' || peek() == '-') ++pos_;
            if (digits() == 0) return fail("expected digits in the exponent");
        }
        const std::string_view text = s_.substr(start, pos_ - start);
        if (integral) {
            std::int64_t i = 0;
            auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), i);
            if (ec == std::errc() && p == text.data() + text.size()) {
                out = Value::integer(i);
                return true;
            }
        }
        // strtod needs a terminated string; numbers are short, but bound the copy anyway.
        if (text.size() > 400) return fail("number literal too long");
        const std::string copy(text);
        char* end = nullptr;
        const double d = std::strtod(copy.c_str(), &end);
        if (end != copy.c_str() + copy.size()) return fail("bad number");
        if (!std::isfinite(d)) return fail("number out of range");
        out = Value::number(d);
        return true;
    }

    std::string_view s_;
    Limits limits_;
    std::size_t pos_ = 0;
    std::string error_;
};

void write_string(std::string& out, const std::string& s) {
    out += '"';
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default:
                if (c < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out += ch;
                }
        }
    }
    out += '"';
}

void write(std::string& out, const Value& v) {
    switch (v.type()) {
        case Value::Type::Null: out += "null"; return;
        case Value::Type::Bool: out += v.as_bool() ? "true" : "false"; return;
        case Value::Type::Number: {
            const double d = v.as_double();
            if (auto i = v.as_int(); i && (static_cast<double>(*i) == d)) {
                out += std::to_string(*i);
                return;
            }
            if (!std::isfinite(d)) {
                out += "null";
                return;
            }
            char buf[64];
            auto [p, ec] = std::to_chars(buf, buf + sizeof buf, d);
            out.append(buf, ec == std::errc() ? static_cast<std::size_t>(p - buf) : 0);
            return;
        }
        case Value::Type::String: write_string(out, v.as_string()); return;
        case Value::Type::Array: {
            out += '[';
            bool first = true;
            for (const Value& item : v.items()) {
                if (!first) out += ',';
                first = false;
                write(out, item);
            }
            out += ']';
            return;
        }
        case Value::Type::Object: {
            out += '{';
            bool first = true;
            for (const auto& [k, item] : v.members()) {
                if (!first) out += ',';
                first = false;
                write_string(out, k);
                out += ':';
                write(out, item);
            }
            out += '}';
            return;
        }
    }
}

}  // namespace

stack::Result<Value, std::string> parse(std::string_view text, const Limits& limits) {
    return Parser(text, limits).run();
}

std::string serialize(const Value& v) {
    std::string out;
    write(out, v);
    return out;
}

}  // namespace tools::json
