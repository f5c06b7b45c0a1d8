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
//   conns     one "conn KEY=VALUE ..." line per TCP connection in the stack's table (any state).
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

// Client side. The payload of an "ok" reply, or nullopt with `error` set (the daemon's message, or
// what is malformed about the reply).
std::optional<std::string> parse_reply(std::string_view reply, std::string& error);

struct ConnRecord {
    std::map<std::string, std::string, std::less<>> fields;
    std::string get(std::string_view key) const;    // "" if absent
    std::uint64_t num(std::string_view key) const;  // 0 if absent or not a number
};
std::vector<ConnRecord> parse_conns(std::string_view payload);

// `ss -tni`-like listing: a header, then per connection a line with state, queues and addresses and
// an indented detail line (options, rto, rtt srtt/rttvar in ms, mss, cwnd/ssthresh in segments and
// bytes, windows, retransmits).
std::string format_conns(const std::vector<ConnRecord>& conns);
// The `ss` abbreviation of an RFC 9293 state name (ESTABLISHED → ESTAB, SYN-RECEIVED → SYN-RECV).
std::string_view ss_state(std::string_view state);

}  // namespace tools::control
