// The control protocol between tunstackd (--control PATH) and `tunstack stats|conns --control
// PATH`, free of I/O (unit-tested in tests/tools/control_protocol_test.cpp).
//
// Transport: a Unix stream socket (mode 0600, owned by root, made before any --user drop). One
// request per connection: the client sends one line, the daemon answers and closes.
//
//   request   = COMMAND "\n"                      (at most 256 bytes; COMMAND is one of below)
//   reply     = "ok\n" *LINE "end\n"              success; the payload lines depend on COMMAND
//             / "error " MESSAGE "\n"             e.g. "error unknown command 'foo'"
//
//   ping      no payload (a health check)
//   stats     "stat NAME VALUE" lines: every counter and gauge of every layer, the same lines
//             SIGUSR1 prints (see tools/common/metrics.hpp for names and types)
//   conns     one "listen local=A.B.C.D:PORT service=KIND" line per listening socket (the
//             daemon's services), then
//             one "conn KEY=VALUE ..." line per TCP connection in the stack's table (any state).
//             Keys: local remote (A.B.C.D:PORT) state (RFC 9293 name, e.g. ESTABLISHED)
//             sendq recvq cwnd ssthresh snd_wnd rcv_wnd mss (bytes) srtt_us rttvar_us rto_us
//             retrans sack ts ws (0/1) snd_wscale rcv_wscale
//
// A reply without its "end" line is truncated (the daemon went away) and treated as an error.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stack/tcp/connection.hpp"

namespace tools::control {

inline constexpr std::size_t kMaxRequest = 256;

// Daemon side.
std::string ok_reply(std::string_view payload);     // payload: complete lines (or empty)
std::string error_reply(std::string_view message);  // one line
std::string encode_conn(const stack::tcp::ConnectionInfo& info);
std::string encode_listener(stack::wire::Ipv4Address addr, std::uint16_t port,
                            std::string_view service);

// Client side. The payload of an "ok" reply, or nullopt with `error` set (the daemon's message, or
// what is malformed about the reply).
std::optional<std::string> parse_reply(std::string_view reply, std::string& error);

struct ConnRecord {
    std::map<std::string, std::string, std::less<>> fields;
    std::string get(std::string_view key) const;    // "" if absent
    std::uint64_t num(std::string_view key) const;  // 0 if absent or not a number
};
// "conn" and "listen" lines, in order; a listener's record has state=LISTEN and remote=0.0.0.0:*.
std::vector<ConnRecord> parse_conns(std::string_view payload);

// `tunstack conns` filters, like `ss state S` and `ss sport/dport`: a state by its RFC 9293 name
// or ss abbreviation, case-insensitive (ESTABLISHED, ESTAB, LISTEN, SYN-RECV, TIME-WAIT, ...), plus
// the groups `listening` and `connected` (every state but LISTEN, SYN-SENT, TIME-WAIT, CLOSED);
// a port matching the local or the remote one. Empty/0: no filter.
struct ConnFilter {
    std::string state;
    std::uint16_t port = 0;
};
// False (with `error`) for an unknown state name.
bool valid_state_filter(std::string_view state, std::string& error);
std::vector<ConnRecord> filter_conns(const std::vector<ConnRecord>& conns, const ConnFilter& f);

// The records as a JSON array of objects: numbers as JSON numbers, the rest as strings.
std::string format_conns_json(const std::vector<ConnRecord>& conns);

// `ss -tni`-like listing: a header, then per connection a line with state, queues and addresses and
// an indented detail line (options, rto, rtt srtt/rttvar in ms, mss, cwnd/ssthresh in segments and
// bytes, windows, retransmits).
std::string format_conns(const std::vector<ConnRecord>& conns);
// The `ss` abbreviation of an RFC 9293 state name (ESTABLISHED → ESTAB, SYN-RECEIVED → SYN-RECV).
std::string_view ss_state(std::string_view state);

}  // namespace tools::control
