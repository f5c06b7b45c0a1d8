#include "tools/common/iperf3.hpp"

#include <sys/resource.h>

#include <limits>

namespace tools::iperf3 {

std::string_view to_string(State s) {
    switch (s) {
        case State::TestStart: return "TEST_START";
        case State::TestRunning: return "TEST_RUNNING";
        case State::TestEnd: return "TEST_END";
        case State::ParamExchange: return "PARAM_EXCHANGE";
        case State::CreateStreams: return "CREATE_STREAMS";
        case State::ServerTerminate: return "SERVER_TERMINATE";
        case State::ClientTerminate: return "CLIENT_TERMINATE";
        case State::ExchangeResults: return "EXCHANGE_RESULTS";
        case State::DisplayResults: return "DISPLAY_RESULTS";
        case State::IperfStart: return "IPERF_START";
        case State::IperfDone: return "IPERF_DONE";
        case State::AccessDenied: return "ACCESS_DENIED";
        case State::ServerError: return "SERVER_ERROR";
    }
    return "?";
}

std::uint8_t state_byte(State s) { return static_cast<std::uint8_t>(static_cast<std::int8_t>(s)); }

std::optional<State> parse_state(std::uint8_t b) {
    const auto v = static_cast<std::int8_t>(b);
    switch (v) {
        case 1:
        case 2:
        case 4:
        case 9:
        case 10:
        case 11:
        case 12:
        case 13:
        case 14:
        case 15:
        case 16:
        case -1:
        case -2: return static_cast<State>(v);
        default: return std::nullopt;
    }
}

std::string describe_error(std::int32_t code) {
    switch (code) {
        case kErrDuration: return "test duration too long";
        case kErrNumStreams: return "too many parallel streams";
        case kErrBlockSize: return "block size too large";
        case kErrOmit: return "bogus value for --omit";
        case kErrUnimplemented: return "not implemented";
        case kErrRecvParams: return "unable to receive parameters from the client";
        case kErrRecvResults: return "unable to receive results";
        case kErrProtocol: return "protocol does not exist";
        default: return "iperf3 error " + std::to_string(code);
    }
}

bool valid_cookie(std::string_view cookie) {
    if (cookie.size() != kCookieSize || cookie.back() != '\0') return false;
    for (std::size_t i = 0; i + 1 < cookie.size(); ++i) {
        if (cookie[i] < 0x21 || cookie[i] > 0x7e) return false;
    }
    return true;
}

std::string make_cookie(const std::uint8_t (&random)[36]) {
    constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz234567";
    std::string c;
    c.reserve(kCookieSize);
    for (std::uint8_t b : random) c += kAlphabet[b % kAlphabet.size()];
    c += '\0';
    return c;
}

int stream_id(std::size_t index) { return index == 0 ? 1 : static_cast<int>(index) + 2; }

namespace {

// An integer member in [lo, hi]; absent → `def`. False if present but not such an integer.
bool int_member(const json::Value& v, std::string_view name, std::int64_t lo, std::int64_t hi,
                std::int64_t def, std::int64_t& out) {
    const json::Value* m = v.find(name);
    if (m == nullptr) {
        out = def;
        return true;
    }
    auto i = m->as_int();
    if (!i || *i < lo || *i > hi) return false;
    out = *i;
    return true;
}

// iperf3 sends flags as `"name": true` and leaves them out otherwise.
bool flag(const json::Value& v, std::string_view name) {
    const json::Value* m = v.find(name);
    return m != nullptr && !(m->is_bool() && !m->as_bool()) && !m->is_null();
}

}  // namespace

stack::Result<TestParams, Refusal> parse_params(const json::Value& v, const ServerLimits& limits) {
    if (!v.is_object()) return stack::Err(Refusal{kErrRecvParams, "parameters are not an object"});
    if (flag(v, "udp") || flag(v, "sctp") || !flag(v, "tcp")) {
        return stack::Err(Refusal{kErrProtocol, "only TCP tests are served"});
    }
    if (flag(v, "bidirectional")) {
        return stack::Err(Refusal{kErrUnimplemented, "--bidir is not supported"});
    }
    TestParams p;
    p.reverse = flag(v, "reverse");
    std::int64_t num = 0, blocks = 0, rate = 0;
    if (!int_member(v, "num", 0, std::numeric_limits<std::int64_t>::max(), 0, num) ||
        !int_member(v, "blockcount", 0, std::numeric_limits<std::int64_t>::max(), 0, blocks) ||
        num != 0 || blocks != 0) {
        return stack::Err(
            Refusal{kErrUnimplemented, "only time-limited tests are served (no -n/-k)"});
    }
    std::int64_t n = 0;
    if (!int_member(v, "time", 1, limits.max_duration_s, 10, n)) {
        return stack::Err(Refusal{kErrDuration, "time must be an integer in 1.." +
                                                    std::to_string(limits.max_duration_s)});
    }
    p.duration_s = static_cast<int>(n);
    if (!int_member(v, "parallel", 1, limits.max_streams, 1, n)) {
        return stack::Err(Refusal{kErrNumStreams, "parallel must be an integer in 1.." +
                                                      std::to_string(limits.max_streams)});
    }
    p.parallel = static_cast<int>(n);
    if (!int_member(v, "omit", 0, limits.max_omit_s, 0, n)) {
        return stack::Err(Refusal{
            kErrOmit, "omit must be an integer in 0.." + std::to_string(limits.max_omit_s)});
    }
    p.omit_s = static_cast<int>(n);
    if (!int_member(v, "len", 1, 16 * 1024 * 1024, 128 * 1024, p.len)) {
        return stack::Err(Refusal{kErrBlockSize, "len must be an integer in 1..16777216"});
    }
    if (!int_member(v, "bandwidth", 0, std::numeric_limits<std::int64_t>::max(), 0, rate)) {
        return stack::Err(Refusal{kErrRecvParams, "bandwidth must be a non-negative integer"});
    }
    if (p.reverse && rate != 0) {
        return stack::Err(Refusal{kErrUnimplemented, "a bitrate limit (-b) with -R is not served"});
    }
    if (const json::Value* cv = v.find("client_version"); cv != nullptr && cv->is_string()) {
        p.client_version = cv->as_string().substr(0, 64);
    }
    return p;
}

json::Value params_json(const TestParams& p) {
    json::Value v = json::Value::object();
    v.set("tcp", json::Value::boolean(true));
    v.set("omit", json::Value::integer(p.omit_s));
    v.set("time", json::Value::integer(p.duration_s));
    v.set("num", json::Value::integer(0));
    v.set("blockcount", json::Value::integer(0));
    v.set("parallel", json::Value::integer(p.parallel));
    if (p.reverse) v.set("reverse", json::Value::boolean(true));
    v.set("len", json::Value::integer(p.len));
    v.set("pacing_timer", json::Value::integer(1000));
    v.set("client_version", json::Value::string(p.client_version));
    return v;
}

json::Value results_json(const Results& r) {
    json::Value v = json::Value::object();
    v.set("cpu_util_total", json::Value::number(r.cpu_total));
    v.set("cpu_util_user", json::Value::number(r.cpu_user));
    v.set("cpu_util_system", json::Value::number(r.cpu_system));
    v.set("sender_has_retransmits", json::Value::integer(r.sender_has_retransmits));
    if (!r.congestion.empty()) v.set("congestion_used", json::Value::string(r.congestion));
    json::Value streams = json::Value::array();
    for (const StreamResult& s : r.streams) {
        json::Value e = json::Value::object();
        e.set("id", json::Value::integer(s.id));
        e.set("bytes", json::Value::integer(s.bytes));
        e.set("retransmits", json::Value::integer(s.retransmits));
        e.set("jitter", json::Value::integer(0));
        e.set("errors", json::Value::integer(0));
        e.set("packets", json::Value::integer(0));
        e.set("start_time", json::Value::number(s.start_time));
        e.set("end_time", json::Value::number(s.end_time));
        streams.push(std::move(e));
    }
    v.set("streams", std::move(streams));
    return v;
}

namespace {

// iperf3 prints an unsigned -1 (18446744073709551615) for "unknown": any number outside int64
// reads as -1.
bool number_member(const json::Value& v, std::string_view name, double& out) {
    const json::Value* m = v.find(name);
    if (m == nullptr || !m->is_number()) return false;
    out = m->as_double();
    return true;
}
bool count_member(const json::Value& v, std::string_view name, std::int64_t& out) {
    const json::Value* m = v.find(name);
    if (m == nullptr || !m->is_number()) return false;
    out = m->as_int().value_or(-1);
    return true;
}

}  // namespace

stack::Result<Results, std::string> parse_results(const json::Value& v) {
    if (!v.is_object()) return stack::Err(std::string("results are not an object"));
    Results r;
    if (!number_member(v, "cpu_util_total", r.cpu_total) ||
        !number_member(v, "cpu_util_user", r.cpu_user) ||
        !number_member(v, "cpu_util_system", r.cpu_system) ||
        !count_member(v, "sender_has_retransmits", r.sender_has_retransmits)) {
        return stack::Err(
            std::string("results lack cpu_util_total/user/system or sender_has_retransmits"));
    }
    if (const json::Value* cc = v.find("congestion_used"); cc != nullptr && cc->is_string()) {
        r.congestion = cc->as_string().substr(0, 32);
    }
    const json::Value* streams = v.find("streams");
    if (streams == nullptr || !streams->is_array()) {
        return stack::Err(std::string("results lack a streams array"));
    }
    for (const json::Value& e : streams->items()) {
        StreamResult s;
        std::int64_t id = 0;
        if (!e.is_object() || !count_member(e, "id", id) || id < 1 || id > 1 << 20 ||
            !count_member(e, "bytes", s.bytes) || s.bytes < 0 ||
            !count_member(e, "retransmits", s.retransmits)) {
            return stack::Err(std::string("a stream result lacks id, bytes or retransmits"));
        }
        s.id = static_cast<int>(id);
        (void)number_member(e, "start_time", s.start_time);
        (void)number_member(e, "end_time", s.end_time);
        r.streams.push_back(s);
    }
    return r;
}

namespace {
void put_be32(std::string& out, std::uint32_t v) {
    out += static_cast<char>(v >> 24);
    out += static_cast<char>(v >> 16);
    out += static_cast<char>(v >> 8);
    out += static_cast<char>(v);
}
}  // namespace

std::string frame(const json::Value& v) {
    const std::string text = json::serialize(v);
    std::string out;
    out.reserve(4 + text.size());
    put_be32(out, static_cast<std::uint32_t>(text.size()));
    out += text;
    return out;
}

std::string server_error(std::int32_t code, std::int32_t err) {
    std::string out(1, static_cast<char>(state_byte(State::ServerError)));
    put_be32(out, static_cast<std::uint32_t>(code));
    put_be32(out, static_cast<std::uint32_t>(err));
    return out;
}

void ControlReader::compact() {
    if (pos_ > 4096 && pos_ * 2 > buf_.size()) {
        buf_.erase(0, pos_);
        pos_ = 0;
    }
}

std::optional<std::uint8_t> ControlReader::take_byte() {
    if (buffered() < 1) return std::nullopt;
    const auto b = static_cast<std::uint8_t>(buf_[pos_++]);
    compact();
    return b;
}

std::optional<std::uint8_t> ControlReader::peek_byte() const {
    if (buffered() < 1) return std::nullopt;
    return static_cast<std::uint8_t>(buf_[pos_]);
}

namespace {
std::uint32_t load_be32(const std::string& s, std::size_t at) {
    return static_cast<std::uint32_t>(static_cast<std::uint8_t>(s[at])) << 24 |
           static_cast<std::uint32_t>(static_cast<std::uint8_t>(s[at + 1])) << 16 |
           static_cast<std::uint32_t>(static_cast<std::uint8_t>(s[at + 2])) << 8 |
           static_cast<std::uint32_t>(static_cast<std::uint8_t>(s[at + 3]));
}
}  // namespace

ControlReader::Take ControlReader::take_message(json::Value& out, std::string& error) {
    if (buffered() < 4) return Take::NeedMore;
    const std::uint32_t len = load_be32(buf_, pos_);
    if (len == 0 || len > kMaxMessage) {
        error = "JSON message length " + std::to_string(len) + " outside 1.." +
                std::to_string(kMaxMessage);
        return Take::Error;
    }
    if (buffered() < 4 + std::size_t{len}) return Take::NeedMore;
    json::Limits limits;
    limits.max_bytes = kMaxMessage;
    limits.max_depth = 8;
    auto v = json::parse(std::string_view(buf_).substr(pos_ + 4, len), limits);
    pos_ += 4 + std::size_t{len};
    compact();
    if (!v) {
        error = v.error();
        return Take::Error;
    }
    out = std::move(*v);
    return Take::Ok;
}

bool ControlReader::take_error_numbers(std::int32_t& code, std::int32_t& err) {
    if (buffered() < 8) return false;
    code = static_cast<std::int32_t>(load_be32(buf_, pos_));
    err = static_cast<std::int32_t>(load_be32(buf_, pos_ + 4));
    pos_ += 8;
    compact();
    return true;
}

CpuTimes process_cpu_times() {
    rusage ru{};
    if (getrusage(RUSAGE_SELF, &ru) != 0) return {};
    auto secs = [](const timeval& tv) {
        return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
    };
    return CpuTimes{secs(ru.ru_utime), secs(ru.ru_stime)};
}

}  // namespace tools::iperf3
