// A small, strict JSON (RFC 8259) reader and writer for what the tools exchange: the iperf3 control
// protocol's parameter and result messages, and the JSON reports the tools print.
//
// Reading is strict: exactly one value with optional whitespace around it; no comments, trailing
// commas, single quotes, leading zeros, NaN/Infinity, raw control characters in strings or lone
// surrogates; \uXXXX escapes are decoded to UTF-8 and other bytes must be valid UTF-8; an object
// with a duplicate member name is refused (RFC 8259 §4 leaves it undefined: we do not guess). Depth
// and size are bounded by Limits, so hostile input costs at most its own length in time and a
// bounded amount of memory. Errors name the byte offset.
//
// Numbers keep their double value and, when the literal is an integer in int64 range, the exact
// integer (iperf3 sends byte counts beyond 2^53 exactly, and 18446744073709551615 for "-1").
// Objects keep their members in order; serialize() writes them in that order, compactly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "stack/base/result.hpp"

namespace tools::json {

class Value {
public:
    enum class Type : std::uint8_t { Null, Bool, Number, String, Array, Object };
    using Members = std::vector<std::pair<std::string, Value>>;

    Value() = default;  // null
    static Value boolean(bool b);
    static Value number(double d);
    static Value integer(std::int64_t i);
    static Value string(std::string s);
    static Value array();
    static Value object();

    Type type() const { return type_; }
    bool is_null() const { return type_ == Type::Null; }
    bool is_bool() const { return type_ == Type::Bool; }
    bool is_number() const { return type_ == Type::Number; }
    bool is_string() const { return type_ == Type::String; }
    bool is_array() const { return type_ == Type::Array; }
    bool is_object() const { return type_ == Type::Object; }

    // Accessors return a neutral value (false, 0, empty) for another type: check the type first.
    bool as_bool() const { return type_ == Type::Bool && bool_; }
    double as_double() const { return type_ == Type::Number ? number_ : 0.0; }
    // The exact integer when the number is one (an integer literal, or an integral double) within
    // int64 range; nullopt otherwise.
    std::optional<std::int64_t> as_int() const;
    const std::string& as_string() const { return string_; }
    const std::vector<Value>& items() const { return items_; }
    const Members& members() const { return members_; }

    // Object member by name (nullptr if absent or not an object).
    const Value* find(std::string_view name) const;

    // Building: set() adds or replaces a member of an object; push() appends to an array.
    Value& set(std::string name, Value v);
    Value& push(Value v);

private:
    Type type_ = Type::Null;
    bool bool_ = false;
    bool has_int_ = false;
    double number_ = 0;
    std::int64_t int_ = 0;
    std::string string_;
    std::vector<Value> items_;
    Members members_;
};

struct Limits {
    std::size_t max_depth = 32;       // nested arrays/objects
    std::size_t max_bytes = 1 << 20;  // the whole text
};

// Parses exactly one JSON value. Error: one line naming the offset and the problem.
stack::Result<Value, std::string> parse(std::string_view text, const Limits& limits = {});

// Compact JSON text. Doubles are written in their shortest round-trip form; a non-finite double
// (not representable in JSON) is written as null.
std::string serialize(const Value& v);

}  // namespace tools::json
