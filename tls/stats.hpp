// TlsStats: the TLS counters, kept by whoever owns the sessions (tunstackd's ServiceHost, a test) and
// updated by TlsSession; a struct of the same kind as the stack's per-layer ones (stack/stats.hpp):
// an X-macro list of plain uint64 counters with their exported names, plus one counter per tls::Reason
// in each of two families, visit() and get(). Exported as "stat NAME VALUE" lines: tls.handshakes_ok,
// tls.handshakes_resumed, tls.close_notify_sent / _received, tls.sessions_active (gauge),
// tls.sessions_rejected, then tls.handshake_failed.<reason> (one per tls::Reason, in enum order) and
// tls.failed.<reason> (errors after the handshake).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "stack/stats.hpp"
#include "tls/error.hpp"

namespace tls {

#define TUNSTACK_TLS_STATS(X)                                                                    \
    X(handshakes_ok, "tls.handshakes_ok")                                                        \
    X(handshakes_resumed, "tls.handshakes_resumed") /* of handshakes_ok: abbreviated (ticket) */ \
    X(close_notify_sent, "tls.close_notify_sent")                                                \
    X(close_notify_received, "tls.close_notify_received")                                        \
    X(sessions_active, "tls.sessions_active")     /* gauge: TlsSession objects alive */          \
    X(sessions_rejected, "tls.sessions_rejected") /* refused: the session limit was hit */

struct TlsStats {
#define TUNSTACK_TLS_STATS_FIELD(field, name) std::uint64_t field = 0;
    TUNSTACK_TLS_STATS(TUNSTACK_TLS_STATS_FIELD)
#undef TUNSTACK_TLS_STATS_FIELD
    std::array<std::uint64_t, kReasonCount> handshake_failed{};  // by Reason
    std::array<std::uint64_t, kReasonCount> failed{};            // after the handshake, by Reason

    // Calls fn(name, value) for every counter: the list above, then handshake_failed.*, failed.*.
    void visit(stack::StatsVisitor fn) const;
    // The value of the counter exported as `name`, or -1 if there is none.
    std::int64_t get(std::string_view name) const;
};

}  // namespace tls
