#include "tools/common/control_protocol.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstdlib>

#include "tools/common/metrics.hpp"

namespace tools::control {

std::string ok_reply(std::string_view payload) {
    std::string out = "ok\n";
    out += payload;
    if (!payload.empty() && payload.back() != '\n') out += '\n';
    out += "end\n";
    return out;
}

std::string error_reply(std::string_view message) {
    std::string out = "error ";
    for (char c : message) out += (c == '\n' || c == '\r') ? ' ' : c;
    out += '\n';
    return out;
}

namespace {
std::string endpoint(const stack::tcp::Endpoint& e) {
    return e.addr.to_string() + ":" + std::to_string(e.port);
}
}  // namespace

std::string encode_conn(const stack::tcp::ConnectionInfo& i) {
    std::string s = "conn local=" + endpoint(i.local) + " remote=" + endpoint(i.remote) +
                    " state=" + std::string(stack::tcp::to_string(i.state));
    auto kv = [&s](const char* k, std::uint64_t v) {
        s += ' ';
        s += k;
        s += '=';
        s += std::to_string(v);
    };
    kv("sendq", i.send_queue);
    kv("recvq", i.recv_queue);
    kv("cwnd", i.cwnd);
    kv("ssthresh", i.ssthresh);
    kv("snd_wnd", i.snd_wnd);
    kv("rcv_wnd", i.rcv_wnd);
    kv("mss", i.smss);
    kv("srtt_us", static_cast<std::uint64_t>(std::max<std::int64_t>(0, i.srtt.as_micros())));
    kv("rttvar_us", static_cast<std::uint64_t>(std::max<std::int64_t>(0, i.rttvar.as_micros())));
    kv("rto_us", static_cast<std::uint64_t>(std::max<std::int64_t>(0, i.rto.as_micros())));
    kv("retrans", i.retransmits);
    kv("sack", i.sack);
    kv("ts", i.timestamps);
    kv("ws", i.window_scaling);
    kv("snd_wscale", i.snd_wscale);
    kv("rcv_wscale", i.rcv_wscale);
    s += '\n';
    return s;
}

std::optional<std::string> parse_reply(std::string_view reply, std::string& error) {
    if (reply.empty()) {
        error = "empty reply (the daemon closed the connection)";
        return std::nullopt;
    }
    if (reply.substr(0, 6) == "error ") {
        std::string_view msg = reply.substr(6);
        const std::size_t nl = msg.find('\n');
        error = std::string(msg.substr(0, nl));
        return std::nullopt;
    }
    if (reply.substr(0, 3) != "ok\n") {
        error = "malformed reply (expected 'ok' or 'error')";
        return std::nullopt;
    }
    std::string_view body = reply.substr(3);
    constexpr std::string_view kEnd = "end\n";
    if (body.size() < kEnd.size() || body.substr(body.size() - kEnd.size()) != kEnd ||
        (body.size() > kEnd.size() && body[body.size() - kEnd.size() - 1] != '\n')) {
        error = "truncated reply (no 'end' line)";
        return std::nullopt;
    }
    return std::string(body.substr(0, body.size() - kEnd.size()));
}

std::string ConnRecord::get(std::string_view key) const {
    auto it = fields.find(key);
    return it == fields.end() ? std::string() : it->second;
}

std::uint64_t ConnRecord::num(std::string_view key) const {
    const std::string v = get(key);
    std::uint64_t n = 0;
    auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    return ec == std::errc() && ptr == v.data() + v.size() ? n : 0;
}

std::vector<ConnRecord> parse_conns(std::string_view payload) {
    std::vector<ConnRecord> out;
    while (!payload.empty()) {
        const std::size_t nl = payload.find('\n');
        std::string_view line = payload.substr(0, nl);
        payload.remove_prefix(nl == std::string_view::npos ? payload.size() : nl + 1);
        const bool listener = line.substr(0, 7) == "listen ";
        if (line.substr(0, 5) != "conn " && !listener) continue;
        line.remove_prefix(listener ? 7 : 5);
        ConnRecord r;
        if (listener) {
            r.fields.emplace("state", "LISTEN");
            r.fields.emplace("remote", "0.0.0.0:*");
            r.fields.emplace("recvq", "0");
            r.fields.emplace("sendq", "0");
        }
        while (!line.empty()) {
            const std::size_t sp = line.find(' ');
            std::string_view tok = line.substr(0, sp);
            line.remove_prefix(sp == std::string_view::npos ? line.size() : sp + 1);
            const std::size_t eq = tok.find('=');
            if (eq == std::string_view::npos || eq == 0) continue;
            r.fields.emplace(std::string(tok.substr(0, eq)), std::string(tok.substr(eq + 1)));
        }
        out.push_back(std::move(r));
    }
    return out;
}

std::string_view ss_state(std::string_view state) {
    if (state == "ESTABLISHED") return "ESTAB";
    if (state == "SYN-RECEIVED") return "SYN-RECV";
    if (state == "CLOSED") return "UNCONN";
    return state;  // SYN-SENT, FIN-WAIT-1, FIN-WAIT-2, CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT,
                   // LISTEN
}

namespace {
std::string ms(std::uint64_t us) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g", static_cast<double>(us) / 1000.0);
    return buf;
}
std::string pad(std::string s, std::size_t w) {
    if (s.size() < w) s += std::string(w - s.size(), ' ');
    return s;
}
std::string rpad(std::string s, std::size_t w) {
    if (s.size() < w) s.insert(0, std::string(w - s.size(), ' '));
    return s;
}
}  // namespace

std::string encode_listener(stack::wire::Ipv4Address addr, std::uint16_t port,
                            std::string_view service) {
    std::string out = "listen local=" + addr.to_string() + ":" + std::to_string(port) + " service=";
    for (char c : service) out += (c > ' ' && c < 0x7f && c != '=') ? c : '_';
    return out + "\n";
}

namespace {
std::string upper(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}
constexpr std::string_view kStates[] = {"LISTEN",     "SYN-SENT",   "SYN-RECEIVED", "ESTABLISHED",
                                        "FIN-WAIT-1", "FIN-WAIT-2", "CLOSE-WAIT",   "CLOSING",
                                        "LAST-ACK",   "TIME-WAIT",  "CLOSED"};
bool state_matches(std::string_view want, std::string_view state) {
    const std::string w = upper(want);
    if (w == "LISTENING") return state == "LISTEN";
    if (w == "CONNECTED") {
        return state != "LISTEN" && state != "SYN-SENT" && state != "TIME-WAIT" &&
               state != "CLOSED";
    }
    return w == state || w == ss_state(state);
}
std::uint16_t port_of(const std::string& endpoint) {
    const std::size_t colon = endpoint.rfind(':');
    if (colon == std::string::npos) return 0;
    return static_cast<std::uint16_t>(std::strtoul(endpoint.c_str() + colon + 1, nullptr, 10));
}
}  // namespace

bool valid_state_filter(std::string_view state, std::string& error) {
    const std::string w = upper(state);
    if (w == "LISTENING" || w == "CONNECTED") return true;
    for (std::string_view s : kStates) {
        if (w == s || w == ss_state(s)) return true;
    }
    error = "unknown state '" + std::string(state) +
            "' (an RFC 9293 state such as ESTABLISHED or LISTEN, its ss name such as ESTAB or "
            "SYN-RECV, or listening, connected)";
    return false;
}

std::vector<ConnRecord> filter_conns(const std::vector<ConnRecord>& conns, const ConnFilter& f) {
    std::vector<ConnRecord> out;
    for (const auto& c : conns) {
        if (!f.state.empty() && !state_matches(f.state, c.get("state"))) continue;
        if (f.port != 0 && port_of(c.get("local")) != f.port &&
            port_of(c.get("remote")) != f.port) {
            continue;
        }
        out.push_back(c);
    }
    return out;
}

std::string format_conns_json(const std::vector<ConnRecord>& conns) {
    std::string out = "[";
    for (std::size_t i = 0; i < conns.size(); ++i) {
        out += i == 0 ? "\n  {" : ",\n  {";
        bool first = true;
        for (const auto& [k, v] : conns[i].fields) {
            out += first ? "" : ", ";
            first = false;
            out += json_string(k) + ": ";
            const bool number = !v.empty() && v.size() <= 19 &&
                                v.find_first_not_of("0123456789") == std::string::npos;
            out += number ? v : json_string(v);
        }
        out += "}";
    }
    out += conns.empty() ? "]\n" : "\n]\n";
    return out;
}

std::string format_conns(const std::vector<ConnRecord>& conns) {
    std::size_t lw = 20, rw = 20;
    for (const auto& c : conns) {
        lw = std::max(lw, c.get("local").size());
        rw = std::max(rw, c.get("remote").size());
    }
    std::string out = pad("State", 11) + rpad("Recv-Q", 8) + " " + rpad("Send-Q", 8) + "  " +
                      pad("Local Address:Port", lw) + "  " + pad("Peer Address:Port", rw) + "\n";
    for (const auto& c : conns) {
        std::string line = pad(std::string(ss_state(c.get("state"))), 11) +
                           rpad(c.get("recvq"), 8) + " " + rpad(c.get("sendq"), 8) + "  " +
                           pad(c.get("local"), lw) + "  " + c.get("remote");
        out += line + "\n";
        if (c.get("state") == "LISTEN") continue;  // no TCB: no detail line (as `ss -tni`)
        const std::uint64_t mss = std::max<std::uint64_t>(c.num("mss"), 1);
        std::string d = "\t";
        if (c.num("sack")) d += "sack ";
        if (c.num("ts")) d += "ts ";
        if (c.num("ws")) {
            d += "wscale:" + c.get("snd_wscale") + "," + c.get("rcv_wscale") + " ";
        }
        d += "rto:" + ms(c.num("rto_us")) + " rtt:" + ms(c.num("srtt_us")) + "/" +
             ms(c.num("rttvar_us")) + " mss:" + c.get("mss") +
             " cwnd:" + std::to_string(c.num("cwnd") / mss) + " (" + c.get("cwnd") + " B)";
        const std::uint64_t ssthresh = c.num("ssthresh");
        if (ssthresh != 0 && ssthresh < 0x7fffffff) {  // "infinite" before the first loss: omitted
            d += " ssthresh:" + std::to_string(ssthresh / mss) + " (" + c.get("ssthresh") + " B)";
        }
        d += " snd_wnd:" + c.get("snd_wnd") + " rcv_wnd:" + c.get("rcv_wnd") +
             " retrans:" + c.get("retrans");
        out += d + "\n";
    }
    return out;
}

}  // namespace tools::control
